//! The renderer: templates and parsed fonts loaded once at start, then any number of invoices
//! or labels drawn into one PDF (fonts embedded once and subset, each logo stored once).

use std::collections::HashMap;
use std::sync::Arc;

use printpdf::{PdfDocument, PdfPage, PdfSaveOptions, XObjectId};

use super::canvas::Typeface;
use super::fonts::{Face, FontPair};
use super::model::{Invoice, Label, Logo, PackingSlip, PickList};
use super::template::{
    check_date_format, check_placeholders, fault_at, parse, FontFiles, InvoiceTemplate,
    LabelTemplate, Numbering, PackingSlipTemplate, PageSpec, PaperSize, PickListTemplate, Source,
    TemplateError,
};
use super::{invoice, label, packing_slip, picklist};

/// A rendered PDF.
#[derive(Debug)]
pub struct Rendered {
    /// The file.
    pub bytes: Vec<u8>,
    /// How many pages it has.
    pub pages: usize,
    /// What printpdf reported while saving (empty when all went well).
    pub warnings: Vec<String>,
}

/// Why nothing was rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The paper is for the other kind of document.
    #[error("{0} paper is not for this kind of document")]
    WrongPaper(&'static str),
    /// No documents were given.
    #[error("there is nothing to render")]
    Empty,
}

/// Loaded templates and fonts, and the logos prepared so far. Shared (`Arc`) by every
/// request.
pub struct Renderer {
    invoice: InvoiceTemplate,
    label: LabelTemplate,
    picklist: PickListTemplate,
    packing_slip: PackingSlipTemplate,
    invoice_fonts: FontPair,
    label_fonts: FontPair,
    picklist_fonts: FontPair,
    packing_slip_fonts: FontPair,
    logos: std::sync::Mutex<HashMap<String, Arc<Logo>>>,
}

/// Prepared logos kept; past this the cache starts afresh.
const LOGO_CACHE: usize = 256;

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("invoice_paper", &self.invoice_paper())
            .field("label_paper", &self.label_paper())
            .finish_non_exhaustive()
    }
}

const INVOICE_FILE: &str = "invoice.toml";
const LABEL_FILE: &str = "label.toml";
const PICKLIST_FILE: &str = "picklist.toml";
const PACKING_SLIP_FILE: &str = "packing_slip.toml";
/// Narrowest content width (paper less margins) an invoice layout needs, in mm.
const MIN_INVOICE_CONTENT: f32 = 150.0;
/// Narrowest content width a label layout needs, in mm.
const MIN_LABEL_CONTENT: f32 = 80.0;
/// Narrowest content width a packing slip layout needs, in mm.
const MIN_SLIP_CONTENT: f32 = 70.0;

fn fonts(
    source: &Source<'_>,
    name: &str,
    text: &str,
    files: &FontFiles,
    cache: &mut HashMap<String, Face>,
) -> Result<FontPair, TemplateError> {
    let mut one = |path: &toml::Spanned<String>| -> Result<Face, TemplateError> {
        let key = path.get_ref().clone();
        if let Some(face) = cache.get(&key) {
            return Ok(face.clone());
        }
        let face = source
            .read(&key)
            .and_then(|bytes| Face::parse(&bytes).map_err(|e| format!("font {key:?}: {e}")))
            .map_err(|m| fault_at(source, name, text, path, m))?;
        cache.insert(key, face.clone());
        Ok(face)
    };
    Ok(FontPair {
        regular: one(&files.regular)?,
        bold: one(&files.bold)?,
        synthetic_bold: files.regular.get_ref() == files.bold.get_ref(),
    })
}

fn check_page(
    source: &Source<'_>,
    name: &str,
    text: &str,
    page: &PageSpec,
    fits: fn(PaperSize) -> bool,
    kinds: &str,
    min_content: f32,
) -> Result<(), TemplateError> {
    let size = *page.size.get_ref();
    if !fits(size) {
        return Err(fault_at(
            source,
            name,
            text,
            &page.size,
            format!("{} is not a paper for {kinds}", size.name()),
        ));
    }
    let horizontal = page.margin_left.0 + page.margin_right.0;
    let vertical = page.margin_top.0 + page.margin_bottom.0;
    for paper in [
        PaperSize::A4,
        PaperSize::Letter,
        PaperSize::Label4x6,
        PaperSize::A6,
    ] {
        let (w, h) = paper.size_mm();
        if fits(paper) && (w - horizontal < min_content || h - vertical < min_content) {
            return Err(fault_at(
                source,
                name,
                text,
                &page.size,
                format!(
                    "the margins leave {:.0} × {:.0} mm on {} paper; {kinds} need at least \
                     {min_content:.0} mm each way",
                    w - horizontal,
                    h - vertical,
                    paper.name()
                ),
            ));
        }
    }
    Ok(())
}

fn check_invoice(
    source: &Source<'_>,
    text: &str,
    t: &InvoiceTemplate,
) -> Result<(), TemplateError> {
    check_page(
        source,
        INVOICE_FILE,
        text,
        &t.page,
        PaperSize::fits_invoices,
        "invoices",
        MIN_INVOICE_CONTENT,
    )?;
    let digits = *t.numbering.digits.get_ref();
    if !(1..=12).contains(&digits) {
        return Err(fault_at(
            source,
            INVOICE_FILE,
            text,
            &t.numbering.digits,
            format!("digits is {digits}; use 1 to 12"),
        ));
    }
    let prefix = t.numbering.prefix.get_ref();
    if prefix.chars().count() > 20 || prefix.chars().any(char::is_control) {
        return Err(fault_at(
            source,
            INVOICE_FILE,
            text,
            &t.numbering.prefix,
            "the prefix has at most 20 characters and no control characters",
        ));
    }
    check_placeholders(t.text.page.get_ref(), &["page", "pages"])
        .map_err(|m| fault_at(source, INVOICE_FILE, text, &t.text.page, m))?;
    check_date_format(t.text.date_format.get_ref())
        .map_err(|m| fault_at(source, INVOICE_FILE, text, &t.text.date_format, m))?;
    Ok(())
}

fn check_label(source: &Source<'_>, text: &str, t: &LabelTemplate) -> Result<(), TemplateError> {
    check_page(
        source,
        LABEL_FILE,
        text,
        &t.page,
        PaperSize::fits_labels,
        "labels",
        MIN_LABEL_CONTENT,
    )?;
    let items = *t.customs.max_items.get_ref();
    if !(1..=10).contains(&items) {
        return Err(fault_at(
            source,
            LABEL_FILE,
            text,
            &t.customs.max_items,
            format!("max_items is {items}; use 1 to 10"),
        ));
    }
    check_placeholders(t.text.more_items.get_ref(), &["count"])
        .map_err(|m| fault_at(source, LABEL_FILE, text, &t.text.more_items, m))?;
    Ok(())
}

fn check_picklist(
    source: &Source<'_>,
    text: &str,
    t: &PickListTemplate,
) -> Result<(), TemplateError> {
    check_page(
        source,
        PICKLIST_FILE,
        text,
        &t.page,
        PaperSize::fits_invoices,
        "pick lists",
        MIN_INVOICE_CONTENT,
    )?;
    let lines = *t.orders.max_lines.get_ref();
    if !(1..=20).contains(&lines) {
        return Err(fault_at(
            source,
            PICKLIST_FILE,
            text,
            &t.orders.max_lines,
            format!("max_lines is {lines}; use 1 to 20"),
        ));
    }
    let x = &t.text;
    for (value, allowed) in [
        (&x.summary, &["orders", "units", "lines"][..]),
        (&x.for_bundles, &["bundles"][..]),
        (&x.more_orders, &["count"][..]),
        (&x.nothing_to_pick, &["orders"][..]),
        (&x.page, &["page", "pages"][..]),
    ] {
        check_placeholders(value.get_ref(), allowed)
            .map_err(|m| fault_at(source, PICKLIST_FILE, text, value, m))?;
    }
    check_date_format(x.date_format.get_ref())
        .map_err(|m| fault_at(source, PICKLIST_FILE, text, &x.date_format, m))?;
    Ok(())
}

fn check_packing_slip(
    source: &Source<'_>,
    text: &str,
    t: &PackingSlipTemplate,
) -> Result<(), TemplateError> {
    check_page(
        source,
        PACKING_SLIP_FILE,
        text,
        &t.page,
        |_| true,
        "packing slips",
        MIN_SLIP_CONTENT,
    )?;
    check_placeholders(t.text.page.get_ref(), &["page", "pages"])
        .map_err(|m| fault_at(source, PACKING_SLIP_FILE, text, &t.text.page, m))?;
    check_date_format(t.text.date_format.get_ref())
        .map_err(|m| fault_at(source, PACKING_SLIP_FILE, text, &t.text.date_format, m))?;
    Ok(())
}

/// Reads `name` from `source`, or the built-in copy when a templates directory has no such
/// file (one set up before that kind of document existed).
fn parse_or_builtin<'s, T: serde::de::DeserializeOwned>(
    source: &'s Source<'s>,
    name: &str,
) -> Result<(T, String, &'s Source<'s>), TemplateError> {
    static BUILTIN: Source<'static> = Source::Builtin;
    let from = if source.has(name) {
        source
    } else {
        tracing::info!(
            file = name,
            "no such template in the templates directory: using the built-in one"
        );
        &BUILTIN
    };
    let (t, text) = parse::<T>(from, name)?;
    Ok((t, text, from))
}

fn save_options() -> PdfSaveOptions {
    PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        // Logos arrive as Flate-compressed image XObjects (`Logo`); printpdf's image path,
        // which would re-encode them as lossy JPEG by default, is not used.
        image_optimization: None,
    }
}

/// Adds the faces to `doc` (one when bold is synthetic).
fn typeface<'a>(doc: &mut PdfDocument, faces: &'a FontPair) -> Typeface<'a> {
    let regular = doc.add_font(&faces.regular.parsed);
    let bold = if faces.synthetic_bold {
        regular.clone()
    } else {
        doc.add_font(&faces.bold.parsed)
    };
    Typeface {
        faces,
        regular,
        bold,
    }
}

/// Adds each distinct logo once; their ids by key.
fn add_logos<'a>(
    doc: &mut PdfDocument,
    logos: impl Iterator<Item = &'a Logo>,
) -> HashMap<String, XObjectId> {
    let mut ids = HashMap::new();
    for logo in logos {
        if !ids.contains_key(&logo.key) {
            ids.insert(logo.key.clone(), doc.add_xobject(&logo.xobject));
        }
    }
    ids
}

fn finish(doc: &mut PdfDocument, pages: Vec<PdfPage>) -> Rendered {
    let count = pages.len();
    let mut warnings = Vec::new();
    let bytes = doc.with_pages(pages).save(&save_options(), &mut warnings);
    Rendered {
        bytes,
        pages: count,
        warnings: warnings
            .into_iter()
            .map(|w| format!("{:?} (page {}): {}", w.severity, w.page, w.msg))
            .collect(),
    }
}

impl Renderer {
    /// Loads and checks `invoice.toml`, `label.toml` and their fonts.
    pub fn load(source: &Source<'_>) -> Result<Self, TemplateError> {
        let (invoice, invoice_text) = parse::<InvoiceTemplate>(source, INVOICE_FILE)?;
        check_invoice(source, &invoice_text, &invoice)?;
        let (label, label_text) = parse::<LabelTemplate>(source, LABEL_FILE)?;
        check_label(source, &label_text, &label)?;
        let mut cache = HashMap::new();
        let invoice_fonts = fonts(
            source,
            INVOICE_FILE,
            &invoice_text,
            &invoice.fonts,
            &mut cache,
        )?;
        let label_fonts = fonts(source, LABEL_FILE, &label_text, &label.fonts, &mut cache)?;
        let (picklist, picklist_text, from) =
            parse_or_builtin::<PickListTemplate>(source, PICKLIST_FILE)?;
        check_picklist(from, &picklist_text, &picklist)?;
        // A built-in template's fonts come from the built-in files too.
        let mut builtin_cache = HashMap::new();
        let picklist_fonts = fonts(
            from,
            PICKLIST_FILE,
            &picklist_text,
            &picklist.fonts,
            if std::ptr::eq(from, source) {
                &mut cache
            } else {
                &mut builtin_cache
            },
        )?;
        let (packing_slip, slip_text, from) =
            parse_or_builtin::<PackingSlipTemplate>(source, PACKING_SLIP_FILE)?;
        check_packing_slip(from, &slip_text, &packing_slip)?;
        let packing_slip_fonts = fonts(
            from,
            PACKING_SLIP_FILE,
            &slip_text,
            &packing_slip.fonts,
            if std::ptr::eq(from, source) {
                &mut cache
            } else {
                &mut builtin_cache
            },
        )?;
        Ok(Self {
            invoice,
            label,
            picklist,
            packing_slip,
            invoice_fonts,
            label_fonts,
            picklist_fonts,
            packing_slip_fonts,
            logos: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The stored logo `bytes` whose SHA-256 is `key`, prepared for PDFs once and cached
    /// (a logo changes its key when it changes). CPU-bound the first time.
    pub fn logo(&self, key: &str, bytes: &[u8]) -> Result<Arc<Logo>, String> {
        let cached = self
            .logos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned();
        if let Some(logo) = cached {
            return Ok(logo);
        }
        let logo = Arc::new(Logo::decode(key.to_string(), bytes)?);
        let mut cache = self
            .logos
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= LOGO_CACHE {
            cache.clear();
        }
        cache.insert(key.to_string(), Arc::clone(&logo));
        Ok(logo)
    }

    /// The invoice numbering of the template.
    pub fn numbering(&self) -> &Numbering {
        &self.invoice.numbering
    }

    /// The template's invoice paper.
    pub fn invoice_paper(&self) -> PaperSize {
        *self.invoice.page.size.get_ref()
    }

    /// The template's label paper.
    pub fn label_paper(&self) -> PaperSize {
        *self.label.page.size.get_ref()
    }

    /// Invoices, one after the other, in one PDF.
    pub fn invoices(
        &self,
        docs: &[Invoice],
        paper: Option<PaperSize>,
    ) -> Result<Rendered, RenderError> {
        let paper = paper.unwrap_or(self.invoice_paper());
        if !paper.fits_invoices() {
            return Err(RenderError::WrongPaper(paper.name()));
        }
        let title = match docs {
            [] => return Err(RenderError::Empty),
            [one] => format!("{} {}", self.invoice.text.title, one.number),
            many => format!("{} ({})", self.invoice.text.title, many.len()),
        };
        let mut doc = PdfDocument::new(&title);
        let type_ = typeface(&mut doc, &self.invoice_fonts);
        let logos = add_logos(
            &mut doc,
            docs.iter().filter_map(|d| d.sender.logo.as_deref()),
        );
        let mut pages = Vec::new();
        for inv in docs {
            let logo = inv
                .sender
                .logo
                .as_deref()
                .and_then(|l| logos.get(&l.key).map(|id| (id, l.pixels())));
            pages.extend(invoice::pages(&self.invoice, paper, inv, &type_, logo));
        }
        Ok(finish(&mut doc, pages))
    }

    /// Whether pick lists show product pictures.
    pub fn picklist_thumbnails(&self) -> bool {
        self.picklist.blocks.thumbnails
    }

    /// The template's pick list paper.
    pub fn picklist_paper(&self) -> PaperSize {
        *self.picklist.page.size.get_ref()
    }

    /// The template's packing slip paper.
    pub fn packing_slip_paper(&self) -> PaperSize {
        *self.packing_slip.page.size.get_ref()
    }

    /// A pick list, as many pages as its lines need.
    pub fn pick_list(
        &self,
        list: &PickList,
        paper: Option<PaperSize>,
    ) -> Result<Rendered, RenderError> {
        let paper = paper.unwrap_or(self.picklist_paper());
        if !paper.fits_invoices() {
            return Err(RenderError::WrongPaper(paper.name()));
        }
        let mut doc = PdfDocument::new(&self.picklist.text.title);
        let type_ = typeface(&mut doc, &self.picklist_fonts);
        let pictures = add_logos(
            &mut doc,
            list.lines.iter().filter_map(|l| l.picture.as_deref()),
        );
        let pages = picklist::pages(&self.picklist, paper, list, &type_, &pictures);
        Ok(finish(&mut doc, pages))
    }

    /// Packing slips, one after the other, in one PDF.
    pub fn packing_slips(
        &self,
        docs: &[PackingSlip],
        paper: Option<PaperSize>,
    ) -> Result<Rendered, RenderError> {
        let paper = paper.unwrap_or(self.packing_slip_paper());
        let title = match docs {
            [] => return Err(RenderError::Empty),
            [one] => format!(
                "{} {}",
                self.packing_slip.text.title,
                one.order_numbers.join(", ")
            ),
            many => format!("{} ({})", self.packing_slip.text.title, many.len()),
        };
        let mut doc = PdfDocument::new(&title);
        let type_ = typeface(&mut doc, &self.packing_slip_fonts);
        let logos = add_logos(
            &mut doc,
            docs.iter().filter_map(|d| d.sender.logo.as_deref()),
        );
        let mut pages = Vec::new();
        for slip in docs {
            let logo = slip
                .sender
                .logo
                .as_deref()
                .and_then(|l| logos.get(&l.key).map(|id| (id, l.pixels())));
            pages.extend(packing_slip::pages(
                &self.packing_slip,
                paper,
                slip,
                &type_,
                logo,
            ));
        }
        Ok(finish(&mut doc, pages))
    }

    /// A batch: each parcel's packing slip followed by its label, in one PDF (each on its
    /// template's paper).
    pub fn batch(&self, parcels: &[(PackingSlip, Label)]) -> Result<Rendered, RenderError> {
        if parcels.is_empty() {
            return Err(RenderError::Empty);
        }
        let mut doc = PdfDocument::new(&format!("Batch ({})", parcels.len()));
        let slip_type = typeface(&mut doc, &self.packing_slip_fonts);
        let label_type = typeface(&mut doc, &self.label_fonts);
        let logos = add_logos(
            &mut doc,
            parcels.iter().filter_map(|(s, _)| s.sender.logo.as_deref()),
        );
        let placed =
            |logo: Option<&Logo>| logo.and_then(|l| logos.get(&l.key).map(|id| (id, l.pixels())));
        let mut pages = Vec::with_capacity(parcels.len() * 2);
        for (slip, label) in parcels {
            pages.extend(packing_slip::pages(
                &self.packing_slip,
                self.packing_slip_paper(),
                slip,
                &slip_type,
                placed(slip.sender.logo.as_deref()),
            ));
            pages.push(label::page(
                &self.label,
                self.label_paper(),
                label,
                &label_type,
                placed(label.sender.logo.as_deref()),
            ));
        }
        Ok(finish(&mut doc, pages))
    }

    /// Labels, one page each, in one PDF.
    pub fn labels(
        &self,
        docs: &[Label],
        paper: Option<PaperSize>,
    ) -> Result<Rendered, RenderError> {
        let paper = paper.unwrap_or(self.label_paper());
        if !paper.fits_labels() {
            return Err(RenderError::WrongPaper(paper.name()));
        }
        let title = match docs {
            [] => return Err(RenderError::Empty),
            [one] => format!("{} {}", self.label.text.order, one.order_number),
            many => format!("Labels ({})", many.len()),
        };
        let mut doc = PdfDocument::new(&title);
        let type_ = typeface(&mut doc, &self.label_fonts);
        let logos = add_logos(
            &mut doc,
            docs.iter().filter_map(|d| d.sender.logo.as_deref()),
        );
        let pages = docs
            .iter()
            .map(|l| {
                let logo = l
                    .sender
                    .logo
                    .as_deref()
                    .and_then(|g| logos.get(&g.key).map(|id| (id, g.pixels())));
                label::page(&self.label, paper, l, &type_, logo)
            })
            .collect();
        Ok(finish(&mut doc, pages))
    }
}
