//! The invoice layout: header (logo, company, numbers and dates) on every page, addresses on
//! the first, the lines flowing onto as many pages as they need, totals and IOSS at the end,
//! page numbers and the footer at the bottom of each page.

use printpdf::{PdfPage, XObjectId};

use super::canvas::{page_label, Align, Canvas, Flow, Frame, Typeface, Weight};
use super::model::{money, money_with_code, Invoice, InvoiceLine, PrintedAddress};
use super::template::{InvoiceTemplate, PaperSize};

/// A placed logo: its document id and pixel size.
pub type LogoRef<'a> = Option<(&'a XObjectId, (usize, usize))>;

/// Largest millimetres per logo pixel (72 dpi): small logos are not blown up.
const MAX_MM_PER_PX: f32 = 25.4 / 72.0;

/// The size (mm) a logo of `pixels` takes in a `max_w` × `max_h` box, aspect kept.
pub fn logo_size(pixels: (usize, usize), max_w: f32, max_h: f32) -> (f32, f32) {
    #[allow(clippy::cast_precision_loss)]
    let (w, h) = (pixels.0.max(1) as f32, pixels.1.max(1) as f32);
    let scale = (max_w / w).min(max_h / h).min(MAX_MM_PER_PX);
    (w * scale, h * scale)
}

/// The template and its frame on the paper.
type Layout<'t> = super::canvas::Layout<'t, InvoiceTemplate>;

/// Table columns: (left edge of SKU, item, right edges of quantity, unit price, amount).
struct Columns {
    sku: Option<f32>,
    item: f32,
    item_width: f32,
    qty: f32,
    unit: f32,
    amount: f32,
}

fn columns(l: &Layout<'_>) -> Columns {
    let amount = l.x1;
    let unit = amount - 30.0;
    let qty = unit - 28.0;
    let (sku, item) = if l.t.blocks.sku_column {
        (Some(l.x0), l.x0 + 32.0)
    } else {
        (None, l.x0)
    };
    Columns {
        sku,
        item,
        item_width: (qty - 16.0 - item).max(20.0),
        qty,
        unit,
        amount,
    }
}

/// Draws the header; returns the y below it.
fn header(c: &mut Canvas<'_>, l: &Layout<'_>, inv: &Invoice, logo: LogoRef<'_>) -> f32 {
    let t = l.t;
    let text = t.sizes.text.0;
    let left_width = (l.x1 - l.x0) * 0.55;
    let mut y = l.top;
    if let (true, Some((id, px))) = (t.blocks.logo, logo) {
        let (w, h) = logo_size(px, t.logo.max_width.0, t.logo.max_height.0);
        c.image(id, px, l.x0, y, w, h);
        y += h + 3.0;
    }
    let type_ = c.type_;
    let company = t.sizes.company.0;
    let name = type_
        .face(Weight::Bold)
        .fit(&inv.sender.name, company, left_width);
    c.text(
        l.x0,
        y,
        &name,
        Weight::Bold,
        company,
        t.colors.text,
        Align::Left,
    );
    y += l.line(company);
    let regular = type_.face(Weight::Regular);
    let small_line = |c: &mut Canvas<'_>, y: &mut f32, s: &str| {
        let s = regular.fit(s, text, left_width);
        c.text(
            l.x0,
            *y,
            &s,
            Weight::Regular,
            text,
            t.colors.muted,
            Align::Left,
        );
        *y += l.line(text);
    };
    if t.blocks.company_address {
        for line in &inv.sender.address {
            small_line(c, &mut y, line);
        }
    }
    if t.blocks.company_contact {
        if let Some(phone) = &inv.sender.phone {
            small_line(c, &mut y, &format!("{}: {phone}", t.text.phone));
        }
        if let Some(email) = &inv.sender.email {
            small_line(c, &mut y, &format!("{}: {email}", t.text.email));
        }
    }

    // Title and numbers, right-aligned.
    let title = t.sizes.title.0;
    let mut ry = l.top;
    c.text(
        l.x1,
        ry,
        &t.text.title,
        Weight::Bold,
        title,
        t.colors.accent,
        Align::Right,
    );
    ry += l.line(title) + 1.5;
    let fmt = t.text.date_format.get_ref();
    let rows = [
        (&t.text.invoice_number, inv.number.clone(), true),
        (
            &t.text.invoice_date,
            inv.issued_at.format(fmt).to_string(),
            false,
        ),
        (&t.text.order_number, inv.order_number.clone(), false),
        (
            &t.text.order_date,
            inv.order_date.format(fmt).to_string(),
            false,
        ),
    ];
    let label_x = l.x1 - 72.0;
    for (label, value, strong) in rows {
        c.text(
            label_x,
            ry,
            label,
            Weight::Regular,
            text,
            t.colors.muted,
            Align::Left,
        );
        let weight = if strong {
            Weight::Bold
        } else {
            Weight::Regular
        };
        let value = c.type_.face(weight).fit(&value, text, 40.0);
        c.text(l.x1, ry, &value, weight, text, t.colors.text, Align::Right);
        ry += l.line(text);
    }
    let bottom = y.max(ry) + 3.0;
    c.rule(l.x0, l.x1, bottom, 0.3, t.colors.rule);
    bottom + 5.0
}

fn address(
    c: &mut Canvas<'_>,
    l: &Layout<'_>,
    x: f32,
    y: f32,
    width: f32,
    heading: &str,
    a: &PrintedAddress,
) -> f32 {
    let t = l.t;
    let (h, text) = (t.sizes.heading.0, t.sizes.text.0);
    let mut y = y;
    c.text(
        x,
        y,
        &heading.to_uppercase(),
        Weight::Bold,
        h,
        t.colors.muted,
        Align::Left,
    );
    y += l.line(h) + 0.5;
    let name = c.type_.face(Weight::Bold).fit(&a.name, text, width);
    c.text(x, y, &name, Weight::Bold, text, t.colors.text, Align::Left);
    y += l.line(text);
    for line in &a.lines {
        let s = c.type_.face(Weight::Regular).fit(line, text, width);
        c.text(x, y, &s, Weight::Regular, text, t.colors.text, Align::Left);
        y += l.line(text);
    }
    y
}

fn table_header(c: &mut Canvas<'_>, l: &Layout<'_>, cols: &Columns, y: f32) -> f32 {
    let t = l.t;
    let h = t.sizes.heading.0;
    let height = l.line(h) + 3.0;
    c.rect(l.x0, y, l.x1 - l.x0, height, t.colors.table_header);
    let ty = y + 1.5;
    let bold = Weight::Bold;
    let col = t.colors.text;
    if let Some(x) = cols.sku {
        c.text(x + 1.5, ty, &t.text.sku, bold, h, col, Align::Left);
    }
    c.text(cols.item + 1.5, ty, &t.text.item, bold, h, col, Align::Left);
    c.text(
        cols.qty - 1.5,
        ty,
        &t.text.quantity,
        bold,
        h,
        col,
        Align::Right,
    );
    c.text(
        cols.unit - 1.5,
        ty,
        &t.text.unit_price,
        bold,
        h,
        col,
        Align::Right,
    );
    c.text(
        cols.amount - 1.5,
        ty,
        &t.text.line_total,
        bold,
        h,
        col,
        Align::Right,
    );
    y + height + 1.0
}

fn footer(c: &mut Canvas<'_>, l: &Layout<'_>, page: usize, pages: usize, last: bool) {
    let t = l.t;
    let small = t.sizes.small.0;
    let y = l.height - l.limit_gap_bottom() + 1.0;
    if !last {
        let continued = &t.text.continued;
        c.text(
            l.x1,
            l.limit + 1.0,
            continued,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Right,
        );
    }
    c.rule(l.x0, l.x1, y, 0.2, t.colors.rule);
    let y = y + 1.5;
    if t.blocks.footer {
        c.text(
            l.x0,
            y,
            &t.text.footer,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Left,
        );
    }
    if t.blocks.page_numbers {
        let text = page_label(t.text.page.get_ref(), page, pages);
        c.text(
            l.x1,
            y,
            &text,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Right,
        );
    }
}

impl Layout<'_> {
    /// Distance from the bottom edge to the footer rule.
    fn limit_gap_bottom(&self) -> f32 {
        self.t.page.margin_bottom.0 + self.line(self.t.sizes.small.0) + 2.5
    }
}

/// Lays out one invoice on `paper`; its pages, in order.
pub fn pages(
    t: &InvoiceTemplate,
    paper: PaperSize,
    inv: &Invoice,
    type_: &Typeface<'_>,
    logo: LogoRef<'_>,
) -> Vec<PdfPage> {
    let mut l = Layout {
        t,
        frame: Frame::new(paper, &t.page, t.sizes.line_spacing.0),
    };
    // Room for the "continued" note above the footer rule.
    l.frame.limit = l.height - l.limit_gap_bottom() - l.line(t.sizes.small.0) - 2.0;
    let cols = columns(&l);
    let text = t.sizes.text.0;
    let mut flow = Flow::new();

    let mut c = Canvas::new(l.width, l.height, type_);
    let mut y = header(&mut c, &l, inv, logo);
    let half = (l.x1 - l.x0) / 2.0 - 4.0;
    let mut below = y;
    if let (true, Some(a)) = (t.blocks.billing_address, &inv.billing) {
        below = below.max(address(&mut c, &l, l.x0, y, half, &t.text.bill_to, a));
    }
    if let (true, Some(a)) = (t.blocks.shipping_address, &inv.shipping) {
        let x = l.x0 + half + 8.0;
        below = below.max(address(&mut c, &l, x, y, half, &t.text.ship_to, a));
    }
    y = below + 6.0;
    y = table_header(&mut c, &l, &cols, y);

    let regular = type_.face(Weight::Regular);
    for line in &inv.lines {
        let names = regular.wrap(&line.name, text, cols.item_width - 3.0, 3);
        // The line count is at most 3.
        #[allow(clippy::cast_precision_loss)]
        let row = names.len() as f32 * l.line(text) + 2.0;
        if y + row > l.limit {
            flow.turn(&mut c);
            y = header(&mut c, &l, inv, logo);
            y = table_header(&mut c, &l, &cols, y);
        }
        table_row(&mut c, &l, &cols, inv.currency_decimals, line, &names, y);
        y += row;
        c.rule(l.x0, l.x1, y, 0.15, t.colors.rule);
    }

    // Totals (and IOSS) stay together.
    let ioss = inv.ioss.as_ref().filter(|_| t.blocks.ioss);
    let small = t.sizes.small.0;
    let rows = if inv.adjustments.is_zero() { 4.0 } else { 5.0 };
    let totals_height = rows * l.line(text)
        + 4.0
        + if ioss.is_some() {
            2.0 * l.line(small) + 4.0
        } else {
            0.0
        };
    if y + 4.0 + totals_height > l.limit {
        flow.turn(&mut c);
        y = header(&mut c, &l, inv, logo);
    }
    totals(&mut c, &l, inv, ioss, y);
    flow.finish(c, |c, page, pages| {
        footer(c, &l, page, pages, page == pages)
    })
}

/// One line of the table at `y`: SKU, the item's name on up to three lines, quantity, unit
/// price and amount.
fn table_row(
    c: &mut Canvas<'_>,
    l: &Layout<'_>,
    cols: &Columns,
    d: u32,
    line: &InvoiceLine,
    names: &[String],
    y: f32,
) {
    let t = l.t;
    let text = t.sizes.text.0;
    let type_ = c.type_;
    let regular = type_.face(Weight::Regular);
    let ty = y + 1.0;
    let col = t.colors.text;
    if let Some(x) = cols.sku {
        let sku = regular.fit(&line.sku, text, cols.item - x - 3.0);
        c.text(x + 1.5, ty, &sku, Weight::Regular, text, col, Align::Left);
    }
    for (i, name) in names.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let dy = i as f32 * l.line(text);
        c.text(
            cols.item + 1.5,
            ty + dy,
            name,
            Weight::Regular,
            text,
            col,
            Align::Left,
        );
    }
    let qty = line.quantity.to_string();
    c.text(
        cols.qty - 1.5,
        ty,
        &qty,
        Weight::Regular,
        text,
        col,
        Align::Right,
    );
    let unit = money(line.unit_price, d);
    c.text(
        cols.unit - 1.5,
        ty,
        &unit,
        Weight::Regular,
        text,
        col,
        Align::Right,
    );
    let total = money(line.total, d);
    c.text(
        cols.amount - 1.5,
        ty,
        &total,
        Weight::Regular,
        text,
        col,
        Align::Right,
    );
}

/// The totals (subtotal, shipping, tax, total) from `y` down, then the IOSS number and note.
fn totals(c: &mut Canvas<'_>, l: &Layout<'_>, inv: &Invoice, ioss: Option<&String>, y: f32) {
    let t = l.t;
    let (text, small) = (t.sizes.text.0, t.sizes.small.0);
    let type_ = c.type_;
    let regular = type_.face(Weight::Regular);
    let mut y = y;
    y += 4.0;
    let label_x = l.x1 - 75.0;
    let (d, cur) = (inv.currency_decimals, inv.currency.as_str());
    let rows = [
        (&t.text.subtotal, inv.subtotal, Weight::Regular),
        (&t.text.shipping, inv.shipping_cost, Weight::Regular),
        (&t.text.adjustments, inv.adjustments, Weight::Regular),
        (&t.text.tax, inv.tax, Weight::Regular),
        (&t.text.total, inv.total, Weight::Bold),
    ];
    for (label, amount, weight) in rows {
        if std::ptr::eq(label, &t.text.adjustments) && amount.is_zero() {
            continue;
        }
        if weight == Weight::Bold {
            c.rule(label_x, l.x1, y, 0.3, t.colors.rule);
            y += 1.0;
        }
        c.text(label_x, y, label, weight, text, t.colors.text, Align::Left);
        let value = money_with_code(amount, d, cur);
        c.text(l.x1, y, &value, weight, text, t.colors.text, Align::Right);
        y += l.line(text);
    }
    if let Some(number) = ioss {
        y += 4.0;
        let s = format!("{}: {number}", t.text.ioss);
        c.text(l.x0, y, &s, Weight::Bold, text, t.colors.text, Align::Left);
        y += l.line(text);
        let note = regular.fit(&t.text.ioss_note, small, l.x1 - l.x0);
        c.text(
            l.x0,
            y,
            &note,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Left,
        );
    }
}
