//! The packing slip layout: the store's logo, alias and return address, the order number(s) and
//! date, where the parcel goes, then what it holds (SKU, item, quantity; prices only when the
//! template asks), the customer's message and a note when the parcel is part of the order. The
//! lines flow onto as many pages as they need; it fits any paper from A6 to Letter.

use printpdf::PdfPage;

use super::canvas::{page_label, Align, Canvas, Flow, Frame, Typeface, Weight};
use super::invoice::{logo_size, LogoRef};
use super::model::{money, PackingLine, PackingSlip};
use super::template::{PackingSlipTemplate, PaperSize};

/// The template and its frame on the paper.
type Layout<'t> = super::canvas::Layout<'t, PackingSlipTemplate>;

/// Columns: left edges of SKU and item; right edges of quantity, ordered, unit price, amount.
struct Columns {
    sku: Option<f32>,
    item: f32,
    item_width: f32,
    qty: f32,
    ordered: Option<f32>,
    prices: Option<(f32, f32)>,
}

fn columns(l: &Layout<'_>, slip: &PackingSlip) -> Columns {
    let t = l.t;
    let content = l.x1 - l.x0;
    let narrow = content < 120.0;
    let mut right = l.x1;
    let prices = t.blocks.prices.then(|| {
        let amount = right;
        let unit = amount - 22.0;
        right = unit - 22.0;
        (unit, amount)
    });
    let ordered = slip.partial.then(|| {
        let x = right;
        right -= if narrow { 14.0 } else { 18.0 };
        x
    });
    let qty = right;
    // On narrow paper with prices the SKU column gives way to the item's name.
    let sku_shown = t.blocks.sku_column && (!narrow || !t.blocks.prices);
    let sku_width = if narrow { 20.0 } else { 32.0 };
    let (sku, item) = if sku_shown {
        (Some(l.x0), l.x0 + sku_width)
    } else {
        (None, l.x0)
    };
    Columns {
        sku,
        item,
        item_width: (qty - if narrow { 11.0 } else { 14.0 } - item).max(20.0),
        qty,
        ordered,
        prices,
    }
}

/// The order number(s) as printed: "Order #1" or "Orders #1, #2".
fn numbers(t: &PackingSlipTemplate, slip: &PackingSlip) -> String {
    let numbers: Vec<String> = slip.order_numbers.iter().map(|n| format!("#{n}")).collect();
    let label = if numbers.len() > 1 {
        &t.text.orders
    } else {
        &t.text.order
    };
    format!("{label} {}", numbers.join(", "))
}

/// The header of a page after the first: the title and the order number(s).
fn continued_header(c: &mut Canvas<'_>, l: &Layout<'_>, slip: &PackingSlip) -> f32 {
    let t = l.t;
    let text = t.sizes.text.0;
    let bold = c.type_.face(Weight::Bold);
    let (content, top) = (l.x1 - l.x0, t.page.margin_top.0);
    let heading = bold.fit(&t.text.title, text, content * 0.4);
    c.text(
        l.x0,
        top,
        &heading,
        Weight::Bold,
        text,
        t.colors.accent,
        Align::Left,
    );
    let s = bold.fit(&numbers(t, slip), text, content * 0.6 - 2.0);
    c.text(
        l.x1,
        top,
        &s,
        Weight::Bold,
        text,
        t.colors.text,
        Align::Right,
    );
    let bottom = top + l.line(text) + 1.5;
    c.rule(l.x0, l.x1, bottom, 0.3, t.colors.rule);
    bottom + 3.0
}

/// Logo, store and title on the first page (on narrow paper stacked, the return address on
/// one line), the title and order number(s) on the others; returns the y below them.
fn header(
    c: &mut Canvas<'_>,
    l: &Layout<'_>,
    slip: &PackingSlip,
    logo: LogoRef<'_>,
    first: bool,
) -> f32 {
    let t = l.t;
    let (text, small, company, title) = (
        t.sizes.text.0,
        t.sizes.small.0,
        t.sizes.company.0,
        t.sizes.title.0,
    );
    let type_ = c.type_;
    let (regular, bold) = (type_.face(Weight::Regular), type_.face(Weight::Bold));
    let content = l.x1 - l.x0;
    let top = t.page.margin_top.0;
    if !first {
        return continued_header(c, l, slip);
    }
    let narrow = content < 120.0;
    let left_width = if narrow { content } else { content * 0.55 };
    let mut y = top;
    if let (true, Some((id, px))) = (t.blocks.logo, logo) {
        let max_h = if narrow {
            t.logo.max_height.0.min(12.0)
        } else {
            t.logo.max_height.0
        };
        let (w, h) = logo_size(px, t.logo.max_width.0.min(left_width), max_h);
        c.image(id, px, l.x0, y, w, h);
        y += h + 2.0;
    }
    let name = bold.fit(&slip.sender.name, company, left_width);
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
    if t.blocks.sender_address {
        let s = &slip.sender;
        let parts = s
            .address
            .iter()
            .take(4)
            .chain(s.phone.iter())
            .chain(s.email.iter());
        let lines: Vec<String> = if narrow {
            vec![parts.cloned().collect::<Vec<_>>().join(", ")]
        } else {
            parts.cloned().collect()
        };
        for line in lines.iter().filter(|l| !l.is_empty()) {
            let line = regular.fit(line, small, left_width);
            c.text(
                l.x0,
                y,
                &line,
                Weight::Regular,
                small,
                t.colors.muted,
                Align::Left,
            );
            y += l.line(small);
        }
    }
    // Title, order number(s) and date at the right; on narrow paper below the store.
    let (right_width, mut ry, right_x, align) = if narrow {
        (content, y + 1.5, l.x0, Align::Left)
    } else {
        (content - left_width - 3.0, top, l.x1, Align::Right)
    };
    let heading = bold.fit(&t.text.title, title, right_width);
    c.text(
        right_x,
        ry,
        &heading,
        Weight::Bold,
        title,
        t.colors.accent,
        align,
    );
    ry += l.line(title) + 1.0;
    for line in bold.wrap(&numbers(t, slip), text, right_width, 3) {
        c.text(right_x, ry, &line, Weight::Bold, text, t.colors.text, align);
        ry += l.line(text);
    }
    let date = format!(
        "{} {}",
        t.text.order_date,
        slip.order_date.format(t.text.date_format.get_ref())
    );
    let date = regular.fit(&date, small, right_width);
    c.text(
        right_x,
        ry,
        &date,
        Weight::Regular,
        small,
        t.colors.muted,
        align,
    );
    ry += l.line(small);
    let bottom = y.max(ry) + 2.0;
    c.rule(l.x0, l.x1, bottom, 0.3, t.colors.rule);
    bottom + 3.5
}

/// Ship-to address, then carrier and tracking; returns the y below.
fn addressee(c: &mut Canvas<'_>, l: &Layout<'_>, slip: &PackingSlip, y: f32) -> f32 {
    let t = l.t;
    let (h, text, small) = (t.sizes.heading.0, t.sizes.text.0, t.sizes.small.0);
    let width = l.x1 - l.x0;
    let face = c.type_.face(Weight::Regular);
    let mut y = y;
    if let Some(a) = &slip.ship_to {
        c.text(
            l.x0,
            y,
            &t.text.ship_to.to_uppercase(),
            Weight::Bold,
            h,
            t.colors.muted,
            Align::Left,
        );
        y += l.line(h) + 0.5;
        let name = c.type_.face(Weight::Bold).fit(&a.name, text, width);
        c.text(
            l.x0,
            y,
            &name,
            Weight::Bold,
            text,
            t.colors.text,
            Align::Left,
        );
        y += l.line(text);
        for line in a.lines.iter().take(6) {
            let s = face.fit(line, text, width);
            c.text(
                l.x0,
                y,
                &s,
                Weight::Regular,
                text,
                t.colors.text,
                Align::Left,
            );
            y += l.line(text);
        }
        y += 2.0;
    }
    if t.blocks.tracking {
        let parts: Vec<String> = [
            (&t.text.carrier, &slip.carrier),
            (&t.text.tracking, &slip.tracking_number),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.as_ref().map(|v| format!("{name}: {v}")))
        .collect();
        if !parts.is_empty() {
            let s = face.fit(&parts.join("   "), small, width);
            c.text(
                l.x0,
                y,
                &s,
                Weight::Regular,
                small,
                t.colors.text,
                Align::Left,
            );
            y += l.line(small) + 2.0;
        }
    }
    y + 1.5
}

fn table_header(c: &mut Canvas<'_>, l: &Layout<'_>, cols: &Columns, y: f32) -> f32 {
    let t = l.t;
    let h = t.sizes.heading.0;
    let height = l.line(h) + 3.0;
    c.rect(l.x0, y, l.x1 - l.x0, height, t.colors.table_header);
    let ty = y + 1.5;
    let (bold, col) = (Weight::Bold, t.colors.text);
    if let Some(x) = cols.sku {
        c.text(x + 1.0, ty, &t.text.sku, bold, h, col, Align::Left);
    }
    c.text(cols.item + 1.0, ty, &t.text.item, bold, h, col, Align::Left);
    c.text(
        cols.qty - 1.0,
        ty,
        &t.text.quantity,
        bold,
        h,
        col,
        Align::Right,
    );
    if let Some(x) = cols.ordered {
        c.text(x - 1.0, ty, &t.text.ordered, bold, h, col, Align::Right);
    }
    if let Some((unit, amount)) = cols.prices {
        c.text(
            unit - 1.0,
            ty,
            &t.text.unit_price,
            bold,
            h,
            col,
            Align::Right,
        );
        c.text(
            amount - 1.0,
            ty,
            &t.text.line_total,
            bold,
            h,
            col,
            Align::Right,
        );
    }
    y + height + 1.0
}

#[allow(clippy::too_many_arguments)]
fn table_row(
    c: &mut Canvas<'_>,
    l: &Layout<'_>,
    cols: &Columns,
    slip: &PackingSlip,
    line: &PackingLine,
    names: &[String],
    y: f32,
) {
    let t = l.t;
    let text = t.sizes.text.0;
    let face = c.type_.face(Weight::Regular);
    let (ty, col) = (y + 1.0, t.colors.text);
    if let Some(x) = cols.sku {
        let sku = face.fit(&line.sku, text, cols.item - x - 2.0);
        c.text(x + 1.0, ty, &sku, Weight::Regular, text, col, Align::Left);
    }
    let mut ny = ty;
    for name in names {
        c.text(
            cols.item + 1.0,
            ny,
            name,
            Weight::Regular,
            text,
            col,
            Align::Left,
        );
        ny += l.line(text);
    }
    c.text(
        cols.qty - 1.0,
        ty,
        &line.quantity.to_string(),
        Weight::Bold,
        text,
        col,
        Align::Right,
    );
    if let Some(x) = cols.ordered {
        c.text(
            x - 1.0,
            ty,
            &line.ordered.to_string(),
            Weight::Regular,
            text,
            t.colors.muted,
            Align::Right,
        );
    }
    if let Some((unit, amount)) = cols.prices {
        let d = slip.currency_decimals;
        let total = line.unit_price * rust_decimal::Decimal::from(line.quantity);
        c.text(
            unit - 1.0,
            ty,
            &money(line.unit_price, d),
            Weight::Regular,
            text,
            col,
            Align::Right,
        );
        c.text(
            amount - 1.0,
            ty,
            &money(total, d),
            Weight::Regular,
            text,
            col,
            Align::Right,
        );
    }
}

fn footer(c: &mut Canvas<'_>, l: &Layout<'_>, page: usize, pages: usize) {
    let t = l.t;
    let small = t.sizes.small.0;
    let y = l.height - t.page.margin_bottom.0 - l.line(small);
    if page < pages {
        c.text(
            l.x0,
            y,
            &t.text.continued,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Left,
        );
    }
    if t.blocks.page_numbers && pages > 1 {
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

/// Lays out one packing slip on `paper`; its pages, in order.
pub fn pages(
    t: &PackingSlipTemplate,
    paper: PaperSize,
    slip: &PackingSlip,
    type_: &Typeface<'_>,
    logo: LogoRef<'_>,
) -> Vec<PdfPage> {
    let mut l = Layout {
        t,
        frame: Frame::new(paper, &t.page, t.sizes.line_spacing.0),
    };
    l.frame.limit -= l.line(t.sizes.small.0) + 2.0;
    let cols = columns(&l, slip);
    let (text, small) = (t.sizes.text.0, t.sizes.small.0);
    let face = type_.face(Weight::Regular);
    let mut flow = Flow::new();
    let mut c = Canvas::new(l.width, l.height, type_);
    let mut y = header(&mut c, &l, slip, logo, true);
    y = addressee(&mut c, &l, slip, y);
    y = table_header(&mut c, &l, &cols, y);
    for line in &slip.lines {
        let names = face.wrap(&line.name, text, cols.item_width - 2.0, 3);
        // At most three lines.
        #[allow(clippy::cast_precision_loss)]
        let row = names.len() as f32 * l.line(text) + 2.0;
        if y + row > l.limit {
            flow.turn(&mut c);
            y = header(&mut c, &l, slip, logo, false);
            y = table_header(&mut c, &l, &cols, y);
        }
        table_row(&mut c, &l, &cols, slip, line, &names, y);
        y += row;
        c.rule(l.x0, l.x1, y, 0.15, t.colors.rule);
    }
    // The message and the partial note, kept together.
    let mut notes: Vec<(String, Weight, f32, super::template::Colour)> = Vec::new();
    if let (true, Some(message)) = (t.blocks.message, &slip.message) {
        notes.push((
            t.text.message.to_uppercase(),
            Weight::Bold,
            t.sizes.heading.0,
            t.colors.muted,
        ));
        for line in face.wrap(message, text, l.x1 - l.x0, 8) {
            notes.push((line, Weight::Regular, text, t.colors.text));
        }
    }
    if slip.partial {
        for line in face.wrap(&t.text.partial, small, l.x1 - l.x0, 3) {
            notes.push((line, Weight::Regular, small, t.colors.muted));
        }
    }
    if !notes.is_empty() {
        let needed: f32 = notes.iter().map(|n| l.line(n.2)).sum::<f32>() + 5.0;
        if y + needed > l.limit {
            flow.turn(&mut c);
            y = header(&mut c, &l, slip, logo, false);
        }
        y += 5.0;
        for (s, weight, size, colour) in &notes {
            c.text(l.x0, y, s, *weight, *size, *colour, Align::Left);
            y += l.line(*size);
        }
    }
    flow.finish(c, |c, page, pages| footer(c, &l, page, pages))
}
