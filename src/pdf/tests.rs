//! Rendered PDFs read back with poppler (`pdftotext`, `pdfinfo`, `pdfimages`, `pdffonts`,
//! `pdftoppm`) and zbar (`zbarimg`), as a person opening them would see them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use super::sample;
use super::*;

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

fn renderer() -> Renderer {
    Renderer::load(&Source::Dir(&templates())).unwrap()
}

/// Runs a poppler/zbar tool on `bytes` written to a temp file; its stdout.
fn tool(bytes: &[u8], program: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&file)
        .args(if program == "pdftotext" {
            vec!["-"]
        } else {
            vec![]
        })
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text(bytes: &[u8]) -> String {
    tool(bytes, "pdftotext", &["-enc", "UTF-8"])
}

fn page_text(bytes: &[u8], page: usize) -> String {
    let p = page.to_string();
    tool(bytes, "pdftotext", &["-enc", "UTF-8", "-f", &p, "-l", &p])
}

fn info(bytes: &[u8]) -> String {
    tool(bytes, "pdfinfo", &[])
}

/// The barcodes zbar finds on page `page` rendered at 300 dpi.
fn barcodes(bytes: &[u8], page: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("label.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let prefix = dir.path().join("page");
    let p = page.to_string();
    let status = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-gray",
            "-png",
            "-singlefile",
            "-f",
            &p,
            "-l",
            &p,
        ])
        .arg(&pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(status.success());
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Scode128.enable"])
        .arg(dir.path().join("page.png"))
        .output()
        .expect("zbarimg (zbar-tools)");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn an_a4_invoice_shows_every_element_with_names_in_any_script() {
    let r = renderer();
    let inv = sample::invoice("INV-000042", 5, sample::logo());

    let out = r.invoices(std::slice::from_ref(&inv), None).unwrap();

    assert_eq!(out.warnings, Vec::<String>::new());
    assert_eq!(out.pages, 1);
    let twenty = r
        .invoices(&[sample::invoice("INV-000043", 20, sample::logo())], None)
        .unwrap();
    assert_eq!(twenty.pages, 1, "twenty lines fit one page");
    assert!(
        twenty.bytes.len() < 60 * 1024,
        "{} bytes",
        twenty.bytes.len()
    );
    let info = info(&out.bytes);
    assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
    let text = squash(&text(&out.bytes));
    for expected in [
        "Invoice",
        "Łódź Ceramics & Co.",
        "12 Example Street",
        "London EC1A 1BB",
        "+44 20 7946 0000",
        "shop@example.com",
        "INV-000042",
        "2026-11-28",
        "100234",
        "2026-11-27",
        "BILL TO",
        "SHIP TO",
        "Łukasz Żółć",
        "Jürgen Großmann",
        "90-001 Łódź",
        "MUG-001",
        "Kubek „Żubr” 1",
        "Teetasse Größe M 2",
        "Κούπα καφέ 3",
        "Кружка «Матрёшка» 4",
        "12.50",
        "Subtotal",
        "Shipping",
        "9.90 EUR",
        "Tax",
        &format!("{} EUR", model::money(inv.total, 2)),
        "IOSS number: IM2760000001",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    let images = tool(&out.bytes, "pdfimages", &["-list"]);
    let image_rows: Vec<&str> = images.lines().skip(2).collect();
    assert!(
        image_rows
            .iter()
            .any(|l| l.contains(" image ") && l.contains(" 300 ") && l.contains(" 100 ")),
        "{images}"
    );
    let fonts = tool(&out.bytes, "pdffonts", &[]);
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    assert!(
        fonts.lines().skip(2).all(|l| l.contains("yes yes")),
        "every font embedded and subset: {fonts}"
    );
    assert!(out.bytes.len() < 60 * 1024, "{} bytes", out.bytes.len());
}

#[test]
fn a_letter_invoice_is_letter_sized() {
    let r = renderer();
    let out = r
        .invoices(
            &[sample::invoice("INV-1", 3, None)],
            Some(PaperSize::Letter),
        )
        .unwrap();
    assert_eq!(out.warnings, Vec::<String>::new());
    let info = info(&out.bytes);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    assert!(text(&out.bytes).contains("INV-1"));
}

#[test]
fn a_long_invoice_flows_onto_more_pages_with_the_header_repeated() {
    let r = renderer();
    let out = r
        .invoices(&[sample::invoice("INV-000077", 90, sample::logo())], None)
        .unwrap();

    assert_eq!(out.warnings, Vec::<String>::new());
    assert!(out.pages >= 3, "{} pages", out.pages);
    assert!(info(&out.bytes).contains(&format!("Pages:           {}", out.pages)));
    for page in 1..=out.pages {
        let t = squash(&page_text(&out.bytes, page));
        assert!(t.contains("INV-000077"), "page {page}: {t}");
        assert!(t.contains("Łódź Ceramics & Co."), "page {page}: {t}");
        assert!(t.contains("Unit price"), "page {page}: {t}");
        assert!(
            t.contains(&format!("Page {page} of {}", out.pages)),
            "page {page}: {t}"
        );
    }
    let all = squash(&text(&out.bytes));
    for i in 1..=90 {
        assert!(all.contains(&format!("MUG-{i:03}")), "line {i} missing");
    }
    assert!(
        all.contains("Кружка керамическая с очень длинным названием, которое"),
        "{all}"
    );
    assert!(
        all.contains("следующую строку 24"),
        "wrapped onto a second line: {all}"
    );
    let last = squash(&page_text(&out.bytes, out.pages));
    assert!(last.contains("IOSS number"), "{last}");
    assert!(!last.contains("Continued on the next page"), "{last}");
    assert!(squash(&page_text(&out.bytes, 1)).contains("Continued on the next page"));
}

#[test]
fn many_invoices_make_one_pdf_and_share_one_logo() {
    let r = renderer();
    let logo = sample::logo();
    let docs: Vec<Invoice> = (1..=4)
        .map(|i| sample::invoice(&format!("INV-00000{i}"), 3, logo.clone()))
        .collect();

    let out = r.invoices(&docs, None).unwrap();

    assert_eq!(out.warnings, Vec::<String>::new());
    assert_eq!(out.pages, 4);
    for (i, _) in docs.iter().enumerate() {
        let t = page_text(&out.bytes, i + 1);
        assert!(t.contains(&format!("INV-00000{}", i + 1)), "{t}");
    }
    let images = tool(&out.bytes, "pdfimages", &["-list"]);
    let objects: std::collections::BTreeSet<&str> = images
        .lines()
        .skip(2)
        .filter(|l| l.contains(" image "))
        .filter_map(|l| l.split_whitespace().nth(10))
        .collect();
    assert_eq!(
        objects.len(),
        1,
        "one logo object shown on every page: {images}"
    );
}

#[test]
fn a_4x6_label_shows_every_element_and_its_barcode_decodes_to_the_tracking_number() {
    let r = renderer();
    let label = sample::label(Some("1Z999AA10123456784"), sample::logo());

    let out = r.labels(std::slice::from_ref(&label), None).unwrap();

    assert_eq!(out.warnings, Vec::<String>::new());
    let info = info(&out.bytes);
    assert!(info.contains("288 x 432 pts"), "{info}");
    let text = squash(&text(&out.bytes));
    for expected in [
        "FROM",
        "Łódź Ceramics & Co.",
        "12 Example Street",
        "Tel. +44 20 7946 0000",
        "SHIP TO",
        "Αλέξανδρος Παπαδόπουλος",
        "546 21 Θεσσαλονίκη",
        "Greece",
        "Tel. +30 2310 000000",
        "Email alexandros@example.gr",
        "Order 100234",
        "Weight: 1.250 kg",
        "Carrier: Royal Mail",
        "Service: International Tracked",
        "Tracking no. 1Z999AA10123456784",
        "CUSTOMS DECLARATION",
        "Ceramic mug",
        "Teapot",
        "65.00 GBP",
        "IOSS: IM2760000001",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in {text}");
    }
    assert_eq!(barcodes(&out.bytes, 1), ["1Z999AA10123456784"]);
    assert!(tool(&out.bytes, "pdfimages", &["-list"]).contains(" image "));
}

#[test]
fn an_a6_label_is_a6_and_numeric_tracking_numbers_decode_too() {
    let r = renderer();
    let out = r
        .labels(
            &[sample::label(Some("00340434161234567890"), None)],
            Some(PaperSize::A6),
        )
        .unwrap();
    assert_eq!(out.warnings, Vec::<String>::new());
    let info = info(&out.bytes);
    assert!(info.contains("297.638 x 419.528 pts"), "{info}");
    assert_eq!(barcodes(&out.bytes, 1), ["00340434161234567890"]);
}

#[test]
fn many_labels_make_one_pdf_one_page_each() {
    let r = renderer();
    let numbers = [
        "JD014600001234567890",
        "CX123456789DE",
        "9400111899223100000000",
    ];
    let docs: Vec<Label> = numbers
        .iter()
        .map(|n| sample::label(Some(n), None))
        .collect();

    let out = r.labels(&docs, None).unwrap();

    assert_eq!(out.pages, 3);
    for (i, n) in numbers.iter().enumerate() {
        assert_eq!(barcodes(&out.bytes, i + 1), [n.to_string()]);
    }
}

#[test]
fn a_domestic_label_has_no_customs_block_and_a_missing_tracking_number_is_said_plainly() {
    let r = renderer();
    let mut label = sample::label(None, None);
    label.customs = None;
    let out = r.labels(&[label], None).unwrap();
    let text = squash(&text(&out.bytes));
    assert!(!text.contains("CUSTOMS"), "{text}");
    assert!(text.contains("No tracking number yet"), "{text}");
    assert!(barcodes(&out.bytes, 1).is_empty());
}

#[test]
fn a_tracking_number_no_barcode_can_carry_is_still_printed_as_text() {
    let r = renderer();
    let number = "ŁÓDŹ-TRACK-1";
    let label = sample::label(Some(number), None);
    let out = r.labels(&[label], None).unwrap();
    let text = squash(&text(&out.bytes));
    assert!(text.contains(&format!("Tracking no. {number}")), "{text}");
    assert!(!text.contains("No tracking number yet"), "{text}");
    assert!(barcodes(&out.bytes, 1).is_empty());
}

#[test]
fn the_wrong_paper_for_a_kind_of_document_is_refused() {
    let r = renderer();
    let inv = sample::invoice("INV-1", 1, None);
    assert_eq!(
        r.invoices(&[inv], Some(PaperSize::A6)).unwrap_err(),
        RenderError::WrongPaper("A6")
    );
    assert_eq!(
        r.labels(&[], Some(PaperSize::Label4x6)).unwrap_err(),
        RenderError::Empty
    );
}

#[test]
fn the_built_in_templates_equal_the_files() {
    let builtin = Renderer::load(&Source::Builtin).unwrap();
    let files = renderer();
    assert_eq!(builtin.invoice_paper(), files.invoice_paper());
    assert_eq!(builtin.numbering().format(42), "INV-000042");
}

/// A templates directory holding only the invoice and label templates and the fonts (as one
/// set up before pick lists and packing slips existed).
fn older_templates() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fonts")).unwrap();
    for name in [
        "invoice.toml",
        "label.toml",
        "fonts/DejaVuSans.ttf",
        "fonts/DejaVuSans-Bold.ttf",
    ] {
        std::fs::copy(templates().join(name), dir.path().join(name)).unwrap();
    }
    dir
}

/// A copy of the templates with `file` replaced by `contents`; the error loading it.
fn broken(file: &str, contents: &[u8]) -> (tempfile::TempDir, TemplateError) {
    let dir = older_templates();
    std::fs::write(dir.path().join(file), contents).unwrap();
    let err = Renderer::load(&Source::Dir(dir.path())).unwrap_err();
    (dir, err)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn a_broken_template_names_the_file_and_the_line() {
    let invoice = std::fs::read_to_string(templates().join("invoice.toml")).unwrap();
    let label = std::fs::read_to_string(templates().join("label.toml")).unwrap();
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        // (file, replace, with, line containing, message containing)
        (
            "invoice.toml",
            "accent = \"#1f4e79\"",
            "accent = \"navy\"",
            "accent =",
            "colour",
        ),
        (
            "invoice.toml",
            "title = 20",
            "title = 200",
            "title = 200",
            "out of range",
        ),
        (
            "invoice.toml",
            "size = \"A4\"",
            "size = \"A6\"",
            "size = \"A6\"",
            "not a paper for invoices",
        ),
        (
            "invoice.toml",
            "size = \"A4\"",
            "size = \"B5\"",
            "size = \"B5\"",
            "unknown variant",
        ),
        (
            "invoice.toml",
            "footer = \"Thank",
            "fotter = \"Thank",
            "fotter",
            "unknown field",
        ),
        (
            "invoice.toml",
            "page = \"Page {page} of {pages}\"",
            "page = \"Page {pg}\"",
            "page = \"Page {pg}\"",
            "{pg}",
        ),
        (
            "invoice.toml",
            "date_format = \"%Y-%m-%d\"",
            "date_format = \"%Q\"",
            "date_format",
            "date format",
        ),
        (
            "invoice.toml",
            "digits = 6",
            "digits = 40",
            "digits = 40",
            "1 to 12",
        ),
        (
            "invoice.toml",
            "bold = \"fonts/DejaVuSans-Bold.ttf\"",
            "bold = \"fonts/Missing.ttf\"",
            "bold = ",
            "Missing.ttf",
        ),
        (
            "invoice.toml",
            "margin_left = 15",
            "margin_left = 80",
            "size = \"A4\"",
            "margins",
        ),
        ("invoice.toml", "[blocks]", "[blocks", "[blocks", "invalid"),
        (
            "label.toml",
            "max_items = 4",
            "max_items = 0",
            "max_items",
            "1 to 10",
        ),
        (
            "label.toml",
            "size = \"LABEL_4X6\"",
            "size = \"LETTER\"",
            "size = \"LETTER\"",
            "not a paper for labels",
        ),
        (
            "label.toml",
            "more_items = \"and {count} more\"",
            "more_items = \"and {n} more\"",
            "more_items",
            "{n}",
        ),
    ];
    for (file, from, to, at, says) in cases {
        let source = if file == "invoice.toml" {
            &invoice
        } else {
            &label
        };
        assert!(source.contains(from), "{from} not in {file}");
        let edited = source.replacen(from, to, 1);
        let (_dir, err) = broken(file, edited.as_bytes());
        let message = err.to_string();
        assert!(err.file.ends_with(file), "{message}");
        assert_eq!(
            err.line,
            Some(line_of(&edited, at)),
            "{from} → {to}: {message}"
        );
        assert!(message.contains(file), "{message}");
        assert!(
            message.contains(&format!("line {}", line_of(&edited, at))),
            "{message}"
        );
        assert!(message.contains(says), "{from} → {to}: {message}");
    }
}

#[test]
fn a_font_file_that_is_not_a_font_is_refused_with_its_line() {
    let (_dir, err) = broken("fonts/DejaVuSans.ttf", b"not a font");
    assert!(err.file.ends_with("invoice.toml"), "{err}");
    assert!(err.to_string().contains("DejaVuSans.ttf"), "{err}");
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn a_label_embeds_one_face_unless_the_template_names_the_bold_file() {
    let out = renderer()
        .labels(&[sample::label(Some("CX123456789DE"), None)], None)
        .unwrap();
    let fonts = tool(&out.bytes, "pdffonts", &[]);
    assert_eq!(fonts.lines().skip(2).count(), 1, "{fonts}");
    assert!(text(&out.bytes).contains("Αλέξανδρος Παπαδόπουλος"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fonts")).unwrap();
    for name in [
        "invoice.toml",
        "fonts/DejaVuSans.ttf",
        "fonts/DejaVuSans-Bold.ttf",
    ] {
        std::fs::copy(templates().join(name), dir.path().join(name)).unwrap();
    }
    let label = std::fs::read_to_string(templates().join("label.toml"))
        .unwrap()
        .replace(
            "bold = \"fonts/DejaVuSans.ttf\"",
            "bold = \"fonts/DejaVuSans-Bold.ttf\"",
        );
    std::fs::write(dir.path().join("label.toml"), label).unwrap();
    let true_bold = Renderer::load(&Source::Dir(dir.path())).unwrap();
    let out = true_bold
        .labels(&[sample::label(Some("CX123456789DE"), None)], None)
        .unwrap();
    let fonts = tool(&out.bytes, "pdffonts", &[]);
    assert!(fonts.contains("DejaVuSans-Bold"), "{fonts}");
    assert_eq!(barcodes(&out.bytes, 1), ["CX123456789DE"]);
}

#[test]
fn a_pick_list_of_500_orders_flows_onto_pages_in_walking_order_with_every_quantity() {
    let r = renderer();
    let list = sample::pick_list(500);
    let out = r.pick_list(&list, None).unwrap();
    assert_eq!(out.warnings, Vec::<String>::new());
    assert!(out.pages >= 2, "{} pages", out.pages);
    assert!(info(&out.bytes).contains("Page size:       595.276 x 841.89 pts (A4)"));
    let units: i64 = list.lines.iter().map(|l| l.quantity).sum();
    let first = squash(&page_text(&out.bytes, 1));
    assert!(
        first.contains(&format!(
            "500 orders · {units} units · {} products",
            list.lines.len()
        )),
        "{first}"
    );
    for page in 1..=out.pages {
        let t = squash(&page_text(&out.bytes, page));
        assert!(t.contains("Pick list"), "page {page}: {t}");
        for heading in ["Bin", "SKU", "Product", "Qty", "Orders"] {
            assert!(t.contains(heading), "page {page}: {t}");
        }
        assert!(t.contains(&format!("Page {page} of {}", out.pages)), "{t}");
    }
    // Each line's SKU then its quantity, in the list's order; a popular product's orders
    // end with "+N more".
    let all = squash(&text(&out.bytes));
    let mut from = 0;
    for line in &list.lines {
        let at = all[from..]
            .find(&format!("{} ", line.sku))
            .unwrap_or_else(|| panic!("{} after {from}", line.sku))
            + from;
        assert!(
            all[at..].contains(&format!(" {} #", line.quantity)),
            "{}",
            line.sku
        );
        from = at;
    }
    assert!(all.contains(" more"), "{all}");
    assert!(all.contains("for bundles: GIFT-SET"), "{all}");
}

#[test]
fn a_packing_slip_prints_on_any_paper_with_prices_only_when_the_template_asks() {
    let r = renderer();
    for paper in [
        PaperSize::A4,
        PaperSize::Letter,
        PaperSize::A6,
        PaperSize::Label4x6,
    ] {
        let out = r
            .packing_slips(&[sample::packing_slip(true, sample::logo())], Some(paper))
            .unwrap();
        assert_eq!(out.warnings, Vec::<String>::new(), "{paper:?}");
        let t = squash(&text(&out.bytes));
        for wanted in [
            "Packing slip",
            "Łódź Ceramics & Co.",
            "Order #100234",
            "Jürgen Großmann",
            "MUG-004",
            "Кружка «Матрёшка»",
            "Alles Gute zum Geburtstag, Jürgen!",
            "Tracking: JJD000390007882",
            "part of your order",
            "Ordered",
        ] {
            assert!(t.contains(wanted), "{paper:?}: {wanted:?} in {t}");
        }
        assert!(!t.contains("12.50"), "no prices by default: {t}");
    }
    let whole = r
        .packing_slips(&[sample::packing_slip(false, None)], None)
        .unwrap();
    let t = squash(&text(&whole.bytes));
    assert!(
        !t.contains("part of your order") && !t.contains("Ordered"),
        "{t}"
    );

    let dir = older_templates();
    let slip = std::fs::read_to_string(templates().join("packing_slip.toml"))
        .unwrap()
        .replace("prices = false", "prices = true");
    std::fs::write(dir.path().join("packing_slip.toml"), slip).unwrap();
    let priced = Renderer::load(&Source::Dir(dir.path())).unwrap();
    for paper in [PaperSize::A4, PaperSize::A6] {
        let out = priced
            .packing_slips(&[sample::packing_slip(false, None)], Some(paper))
            .unwrap();
        let t = squash(&text(&out.bytes));
        assert!(
            t.contains("Unit price") && t.contains("25.00"),
            "{paper:?}: {t}"
        );
    }
}

#[test]
fn a_templates_directory_made_before_pick_lists_uses_the_built_in_ones_and_a_broken_one_is_named() {
    // `broken` copies only the invoice and label templates: the others come built in.
    let (_dir, err) = broken("label.toml", b"[page]\nsize = \"A4\"\n");
    assert!(err.file.ends_with("label.toml"), "{err}");
    let dir = older_templates();
    let old = Renderer::load(&Source::Dir(dir.path())).unwrap();
    assert_eq!(old.picklist_paper(), PaperSize::A4);
    assert!(old.pick_list(&sample::pick_list(3), None).is_ok());

    let list = std::fs::read_to_string(templates().join("picklist.toml")).unwrap();
    for (from, to, message) in [
        (
            "max_lines = 4",
            "max_lines = 0",
            "max_lines is 0; use 1 to 20",
        ),
        (
            "more_orders = \"+{count} more\"",
            "more_orders = \"+{n} more\"",
            "only {count} can be used here",
        ),
        (
            "size = \"A4\"",
            "size = \"A6\"",
            "A6 is not a paper for pick lists",
        ),
    ] {
        std::fs::write(dir.path().join("picklist.toml"), list.replace(from, to)).unwrap();
        let err = Renderer::load(&Source::Dir(dir.path())).unwrap_err();
        assert!(err.file.ends_with("picklist.toml"), "{err}");
        assert_eq!(err.line, Some(line_of(&list, from)), "{err}");
        assert!(err.message.contains(message), "{err}");
    }
}

#[test]
fn a_batch_puts_each_parcels_packing_slip_before_its_label_each_on_its_paper() {
    let r = renderer();
    let parcels: Vec<_> = (0..3)
        .map(|n| {
            let mut slip = sample::packing_slip(false, sample::logo());
            slip.order_numbers = vec![format!("90000{n}")];
            (
                slip,
                sample::label(Some(&format!("OD000000000{n}")), sample::logo()),
            )
        })
        .collect();
    let out = r.batch(&parcels).unwrap();
    assert_eq!(out.warnings, Vec::<String>::new());
    assert_eq!(out.pages, 6);
    for n in 0..3 {
        let slip = squash(&page_text(&out.bytes, 2 * n + 1));
        assert!(
            slip.contains(&format!("Packing slip Order #90000{n}")),
            "{slip}"
        );
        let label = squash(&page_text(&out.bytes, 2 * n + 2));
        assert!(label.contains(&format!("OD000000000{n}")), "{label}");
    }
    let sizes = tool(&out.bytes, "pdfinfo", &["-f", "1", "-l", "2"]);
    assert!(
        sizes.contains("Page    1 size:  595.276 x 841.89 pts (A4)"),
        "{sizes}"
    );
    assert!(sizes.contains("Page    2 size:  288 x 432 pts"), "{sizes}");
    assert_eq!(r.batch(&[]).unwrap_err(), RenderError::Empty);
}

#[test]
fn an_invoice_shows_discounts_and_other_charges_only_when_the_rows_need_them_to_add_up() {
    let r = renderer();
    let mut inv = sample::invoice("INV-000090", 3, None);
    let plain = squash(&text(&r.invoices(&[inv.clone()], None).unwrap().bytes));
    assert!(!plain.contains("Discounts and other charges"), "{plain}");
    inv.adjustments = rust_decimal::Decimal::new(-500, 2);
    inv.total += inv.adjustments;
    let discounted = squash(&text(&r.invoices(&[inv], None).unwrap().bytes));
    assert!(
        discounted.contains("Discounts and other charges"),
        "{discounted}"
    );
    assert!(discounted.contains("-5.00 EUR"), "{discounted}");
}
