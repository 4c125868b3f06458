//! The shipping label layout: sender, recipient, order and carrier, the tracking barcode, and
//! the customs block of international parcels — one page per label.

use printpdf::PdfPage;

use super::barcode;
use super::canvas::{Align, Canvas, Typeface, Weight};
use super::fonts::{Face, MM_PER_PT};
use super::invoice::{logo_size, LogoRef};
use super::model::{money, money_with_code, Customs, Label};
use super::template::{LabelTemplate, PaperSize};

/// Lays out one label on `paper`.
pub fn page(
    t: &LabelTemplate,
    paper: PaperSize,
    label: &Label,
    type_: &Typeface<'_>,
    logo: LogoRef<'_>,
) -> PdfPage {
    let (width, height) = paper.size_mm();
    let x0 = t.page.margin_left.0;
    let x1 = width - t.page.margin_right.0;
    let mut p = Pen {
        t,
        c: Canvas::new(width, height, type_),
        regular: type_.face(Weight::Regular),
        bold: type_.face(Weight::Bold),
        x0,
        x1,
        cw: x1 - x0,
        bottom: height - t.page.margin_bottom.0,
        y: t.page.margin_top.0,
    };
    if t.blocks.sender {
        sender(&mut p, label, logo);
    }
    recipient(&mut p, label);
    details(&mut p, label);
    if t.blocks.barcode {
        tracking(&mut p, label);
    }
    if let (true, Some(customs)) = (t.blocks.customs, &label.customs) {
        customs_block(&mut p, customs);
    }
    p.c.finish()
}

/// The label being drawn: its canvas, its column (`x0`..`x1`, `cw` wide) and the running `y`.
struct Pen<'a> {
    t: &'a LabelTemplate,
    c: Canvas<'a>,
    regular: &'a Face,
    bold: &'a Face,
    x0: f32,
    x1: f32,
    cw: f32,
    bottom: f32,
    y: f32,
}

impl Pen<'_> {
    /// Height of a line of text of `size` points, in mm.
    fn lh(&self, size: f32) -> f32 {
        size * self.t.sizes.line_spacing.0 * MM_PER_PT
    }

    /// `s` cut to fit `width` in the face of `weight`.
    fn fit(&self, weight: Weight, s: &str, size: f32, width: f32) -> String {
        match weight {
            Weight::Bold => self.bold.fit(s, size, width),
            Weight::Regular => self.regular.fit(s, size, width),
        }
    }

    /// Draws `s` at `x` on the current line, in the text colour.
    fn put(&mut self, x: f32, s: &str, weight: Weight, size: f32, align: Align) {
        let colour = self.t.colors.text;
        self.c.text(x, self.y, s, weight, size, colour, align);
    }

    /// One line at the left margin, then down a line.
    fn line(&mut self, s: &str, weight: Weight, size: f32) {
        self.put(self.x0, s, weight, size, Align::Left);
        self.y += self.lh(size);
    }

    /// A block's heading (upper case, muted), then down a line.
    fn heading(&mut self, s: &str) {
        let (size, colour) = (self.t.sizes.heading.0, self.t.colors.muted);
        let s = s.to_uppercase();
        self.c
            .text(self.x0, self.y, &s, Weight::Bold, size, colour, Align::Left);
        self.y += self.lh(size);
    }

    /// A rule across the column, `before` below the last line and `after` above the next.
    fn rule(&mut self, before: f32, after: f32) {
        self.y += before;
        self.c
            .rule(self.x0, self.x1, self.y, 0.4, self.t.colors.rule);
        self.y += after;
    }
}

/// Sender, with the logo at the right.
fn sender(p: &mut Pen<'_>, label: &Label, logo: LogoRef<'_>) {
    let (t, text, small) = (p.t, p.t.sizes.text.0, p.t.sizes.small.0);
    let mut text_width = p.cw;
    let mut logo_bottom = p.y;
    if let (true, Some((id, px))) = (t.blocks.logo, logo) {
        let (w, h) = logo_size(px, t.logo.max_width.0, t.logo.max_height.0);
        p.c.image(id, px, p.x1 - w, p.y, w, h);
        text_width = p.cw - w - 3.0;
        logo_bottom = p.y + h;
    }
    p.heading(&t.text.from);
    let s = &label.sender;
    let name = p.fit(Weight::Bold, &s.name, text, text_width);
    p.line(&name, Weight::Bold, text);
    let phone = match (t.blocks.sender_phone, &s.phone) {
        (true, Some(phone)) => Some(format!("{} {phone}", t.text.phone)),
        _ => None,
    };
    for line in s.address.iter().take(4).chain(phone.as_ref()) {
        let line = p.fit(Weight::Regular, line, small, text_width);
        p.line(&line, Weight::Regular, small);
    }
    p.y = p.y.max(logo_bottom);
    p.rule(1.5, 2.0);
}

/// Recipient: name, address, and the phone and email the template asks for.
fn recipient(p: &mut Pen<'_>, label: &Label) {
    let (t, text, big, cw) = (p.t, p.t.sizes.text.0, p.t.sizes.recipient.0, p.cw);
    p.heading(&t.text.to);
    let r = &label.recipient;
    let name = p.fit(Weight::Bold, &r.name, big, cw);
    p.line(&name, Weight::Bold, big);
    for line in r.lines.iter().take(6) {
        let line = p.fit(Weight::Regular, line, text + 1.0, cw);
        p.line(&line, Weight::Regular, text + 1.0);
    }
    for (shown, name, value) in [
        (
            t.blocks.recipient_phone,
            &t.text.phone,
            &label.recipient_phone,
        ),
        (
            t.blocks.recipient_email,
            &t.text.email,
            &label.recipient_email,
        ),
    ] {
        if let (true, Some(v)) = (shown, value) {
            let line = p.fit(Weight::Regular, &format!("{name} {v}"), text, cw);
            p.line(&line, Weight::Regular, text);
        }
    }
    p.rule(1.5, 2.0);
}

/// Order number and weight on one line, then carrier and service.
fn details(p: &mut Pen<'_>, label: &Label) {
    let (t, text, cw) = (p.t, p.t.sizes.text.0, p.cw);
    let mut details = false;
    if t.blocks.order_number {
        let s = format!("{} {}", t.text.order, label.order_number);
        let s = p.fit(Weight::Bold, &s, text, cw / 2.0 - 2.0);
        p.put(p.x0, &s, Weight::Bold, text, Align::Left);
        details = true;
    }
    if let (true, Some(w)) = (t.blocks.weight, label.weight) {
        let s = format!("{}: {} {}", t.text.weight, money(w, 3), t.text.weight_unit);
        p.put(p.x1, &s, Weight::Regular, text, Align::Right);
        details = true;
    }
    if details {
        p.y += p.lh(text);
    }
    if t.blocks.carrier {
        for (name, value) in [
            (&t.text.carrier, &label.carrier),
            (&t.text.service, &label.service),
        ] {
            if let Some(value) = value {
                let s = p.fit(Weight::Regular, &format!("{name}: {value}"), text, cw);
                p.line(&s, Weight::Regular, text);
            }
        }
    }
    p.rule(1.0, 2.5);
}

/// Tracking number: barcode and text.
fn tracking(p: &mut Pen<'_>, label: &Label) {
    let (t, text, cw) = (p.t, p.t.sizes.text.0, p.cw);
    let centre = p.x0 + cw / 2.0;
    let number = label.tracking_number.as_deref();
    match number.and_then(|n| barcode::modules(n).ok().map(|m| (n, m))) {
        Some((number, modules)) => {
            let b = &t.barcode;
            let (x0, y) = (p.x0, p.y);
            let (w, colour) = (b.max_module_width.0, t.colors.text);
            barcode::draw(
                &mut p.c,
                &modules,
                x0,
                y,
                cw,
                b.height.0,
                w,
                b.quiet_zone.0,
                colour,
            );
            p.y += b.height.0 + 1.0;
            let size = t.sizes.tracking.0;
            p.put(
                centre,
                &format!("{} {number}", t.text.tracking),
                Weight::Bold,
                size,
                Align::Center,
            );
            p.y += p.lh(size);
        }
        None => {
            // A number no barcode can carry (a manual shipment's may be longer or not
            // ASCII) is still printed, as text.
            let (s, colour) = match number {
                Some(number) => (
                    p.fit(
                        Weight::Regular,
                        &format!("{} {number}", t.text.tracking),
                        text,
                        cw,
                    ),
                    t.colors.text,
                ),
                None => (t.text.no_tracking.clone(), t.colors.muted),
            };
            p.c.text(
                centre,
                p.y,
                &s,
                Weight::Regular,
                text,
                colour,
                Align::Center,
            );
            p.y += p.lh(text);
        }
    }
    p.rule(1.0, 2.0);
}

/// The customs declaration: as many items as fit (the rest summed on one line), the total
/// and the IOSS number.
fn customs_block(p: &mut Pen<'_>, customs: &Customs) {
    let t = p.t;
    let (text, small, heading) = (t.sizes.text.0, t.sizes.small.0, t.sizes.heading.0);
    let ioss_row = if customs.ioss.is_some() {
        p.lh(text)
    } else {
        0.0
    };
    let rows_fixed = p.lh(heading) + p.lh(small) * 2.0 + ioss_row;
    let room = ((p.bottom - p.y - rows_fixed) / p.lh(small))
        .floor()
        .max(1.0);
    // Both bounds are small positive whole numbers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let fits = room as usize;
    let max_items = usize::try_from(*t.customs.max_items.get_ref())
        .unwrap_or(4)
        .min(fits);
    p.heading(&t.text.customs);
    let d = customs.currency_decimals;
    let (qty_x, value_x) = (p.x1 - 24.0, p.x1);
    let row = |p: &mut Pen<'_>, first: &str, qty: &str, value: &str, weight: Weight| {
        p.put(p.x0, first, weight, small, Align::Left);
        p.put(qty_x, qty, weight, small, Align::Right);
        p.put(value_x, value, weight, small, Align::Right);
        p.y += p.lh(small);
    };
    let x = &t.text;
    row(p, &x.contents, &x.quantity, &x.value, Weight::Bold);
    let listed = if customs.items.len() > max_items {
        max_items.saturating_sub(1)
    } else {
        customs.items.len()
    };
    for item in &customs.items[..listed] {
        let name = p.fit(
            Weight::Regular,
            &item.description,
            small,
            qty_x - p.x0 - 10.0,
        );
        let (qty, value) = (item.quantity.to_string(), money(item.value, d));
        row(p, &name, &qty, &value, Weight::Regular);
    }
    let rest = &customs.items[listed..];
    if !rest.is_empty() {
        let s = x
            .more_items
            .get_ref()
            .replace("{count}", &rest.len().to_string());
        let qty: i64 = rest.iter().map(|i| i.quantity).sum();
        let value: rust_decimal::Decimal = rest.iter().map(|i| i.value).sum();
        row(p, &s, &qty.to_string(), &money(value, d), Weight::Regular);
    }
    let total = money_with_code(customs.total_value, d, customs.currency.as_str());
    row(p, &x.total_value, "", &total, Weight::Bold);
    if let Some(ioss) = &customs.ioss {
        p.put(
            p.x0,
            &format!("{}: {ioss}", x.ioss),
            Weight::Bold,
            text,
            Align::Left,
        );
    }
}
