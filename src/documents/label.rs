//! The shipping label layout: sender, recipient, order and carrier, the tracking barcode, and
//! the customs block of international parcels — one page per label.

use printpdf::PdfPage;

use super::barcode;
use super::canvas::{Align, Canvas, Typeface, Weight};
use super::fonts::MM_PER_PT;
use super::invoice::{logo_size, LogoRef};
use super::model::{money, money_with_code, Label};
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
    let bottom = height - t.page.margin_bottom.0;
    let cw = x1 - x0;
    let lh = |size: f32| size * t.sizes.line_spacing.0 * MM_PER_PT;
    let (text, small, heading) = (t.sizes.text.0, t.sizes.small.0, t.sizes.heading.0);
    let colours = &t.colors;
    let regular = type_.face(Weight::Regular);
    let bold = type_.face(Weight::Bold);
    let mut c = Canvas::new(width, height, type_);
    let mut y = t.page.margin_top.0;

    // Sender, with the logo at the right.
    if t.blocks.sender {
        let mut text_width = cw;
        let mut logo_bottom = y;
        if let (true, Some((id, px))) = (t.blocks.logo, logo) {
            let (w, h) = logo_size(px, t.logo.max_width.0, t.logo.max_height.0);
            c.image(id, px, x1 - w, y, w, h);
            text_width = cw - w - 3.0;
            logo_bottom = y + h;
        }
        let from = t.text.from.to_uppercase();
        c.text(
            x0,
            y,
            &from,
            Weight::Bold,
            heading,
            colours.muted,
            Align::Left,
        );
        y += lh(heading);
        let s = &label.sender;
        let name = bold.fit(&s.name, text, text_width);
        c.text(x0, y, &name, Weight::Bold, text, colours.text, Align::Left);
        y += lh(text);
        for line in s.address.iter().take(4) {
            let line = regular.fit(line, small, text_width);
            c.text(
                x0,
                y,
                &line,
                Weight::Regular,
                small,
                colours.text,
                Align::Left,
            );
            y += lh(small);
        }
        if let (true, Some(phone)) = (t.blocks.sender_phone, &s.phone) {
            let line = regular.fit(&format!("{} {phone}", t.text.phone), small, text_width);
            c.text(
                x0,
                y,
                &line,
                Weight::Regular,
                small,
                colours.text,
                Align::Left,
            );
            y += lh(small);
        }
        y = y.max(logo_bottom) + 1.5;
        c.rule(x0, x1, y, 0.4, colours.rule);
        y += 2.0;
    }

    // Recipient.
    let big = t.sizes.recipient.0;
    let to = t.text.to.to_uppercase();
    c.text(
        x0,
        y,
        &to,
        Weight::Bold,
        heading,
        colours.muted,
        Align::Left,
    );
    y += lh(heading);
    let r = &label.recipient;
    let name = bold.fit(&r.name, big, cw);
    c.text(x0, y, &name, Weight::Bold, big, colours.text, Align::Left);
    y += lh(big);
    for line in r.lines.iter().take(6) {
        let line = regular.fit(line, text + 1.0, cw);
        c.text(
            x0,
            y,
            &line,
            Weight::Regular,
            text + 1.0,
            colours.text,
            Align::Left,
        );
        y += lh(text + 1.0);
    }
    let contact = |c: &mut Canvas<'_>, y: &mut f32, label: &str, value: &Option<String>| {
        if let Some(v) = value {
            let line = regular.fit(&format!("{label} {v}"), text, cw);
            c.text(
                x0,
                *y,
                &line,
                Weight::Regular,
                text,
                colours.text,
                Align::Left,
            );
            *y += lh(text);
        }
    };
    if t.blocks.recipient_phone {
        contact(&mut c, &mut y, &t.text.phone, &label.recipient_phone);
    }
    if t.blocks.recipient_email {
        contact(&mut c, &mut y, &t.text.email, &label.recipient_email);
    }
    y += 1.5;
    c.rule(x0, x1, y, 0.4, colours.rule);
    y += 2.0;

    // Order, weight, carrier.
    let mut details = false;
    if t.blocks.order_number {
        let s = format!("{} {}", t.text.order, label.order_number);
        let s = bold.fit(&s, text, cw / 2.0 - 2.0);
        c.text(x0, y, &s, Weight::Bold, text, colours.text, Align::Left);
        details = true;
    }
    if let (true, Some(w)) = (t.blocks.weight, label.weight) {
        let s = format!("{}: {} {}", t.text.weight, money(w, 3), t.text.weight_unit);
        c.text(x1, y, &s, Weight::Regular, text, colours.text, Align::Right);
        details = true;
    }
    if details {
        y += lh(text);
    }
    if t.blocks.carrier {
        for (name, value) in [
            (&t.text.carrier, &label.carrier),
            (&t.text.service, &label.service),
        ] {
            if let Some(value) = value {
                let s = regular.fit(&format!("{name}: {value}"), text, cw);
                c.text(x0, y, &s, Weight::Regular, text, colours.text, Align::Left);
                y += lh(text);
            }
        }
    }
    y += 1.0;
    c.rule(x0, x1, y, 0.4, colours.rule);
    y += 2.5;

    // Tracking number: barcode and text.
    if t.blocks.barcode {
        let tracking = t.sizes.tracking.0;
        match label
            .tracking_number
            .as_deref()
            .and_then(|n| barcode::modules(n).ok().map(|m| (n, m)))
        {
            Some((number, modules)) => {
                let b = &t.barcode;
                barcode::draw(
                    &mut c,
                    &modules,
                    x0,
                    y,
                    cw,
                    b.height.0,
                    b.max_module_width.0,
                    b.quiet_zone.0,
                    colours.text,
                );
                y += b.height.0 + 1.0;
                let s = format!("{} {number}", t.text.tracking);
                c.text(
                    x0 + cw / 2.0,
                    y,
                    &s,
                    Weight::Bold,
                    tracking,
                    colours.text,
                    Align::Center,
                );
                y += lh(tracking);
            }
            None => {
                // A number no barcode can carry (a manual shipment's may be longer or not
                // ASCII) is still printed, as text.
                let (s, colour) = match label.tracking_number.as_deref() {
                    Some(number) => (
                        regular.fit(&format!("{} {number}", t.text.tracking), text, cw),
                        colours.text,
                    ),
                    None => (t.text.no_tracking.clone(), colours.muted),
                };
                c.text(
                    x0 + cw / 2.0,
                    y,
                    &s,
                    Weight::Regular,
                    text,
                    colour,
                    Align::Center,
                );
                y += lh(text);
            }
        }
        y += 1.0;
        c.rule(x0, x1, y, 0.4, colours.rule);
        y += 2.0;
    }

    // Customs declaration.
    if let (true, Some(customs)) = (t.blocks.customs, &label.customs) {
        let rows_fixed = lh(heading)
            + lh(small) * 2.0
            + if customs.ioss.is_some() {
                lh(text)
            } else {
                0.0
            };
        let room = ((bottom - y - rows_fixed) / lh(small)).floor().max(1.0);
        // Both bounds are small positive whole numbers.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let fits = room as usize;
        let max_items = usize::try_from(*t.customs.max_items.get_ref())
            .unwrap_or(4)
            .min(fits);
        let heading_text = t.text.customs.to_uppercase();
        c.text(
            x0,
            y,
            &heading_text,
            Weight::Bold,
            heading,
            colours.muted,
            Align::Left,
        );
        y += lh(heading);
        let (d, cur) = (customs.currency_decimals, customs.currency.as_str());
        let (qty_x, value_x) = (x1 - 24.0, x1);
        c.text(
            x0,
            y,
            &t.text.contents,
            Weight::Bold,
            small,
            colours.text,
            Align::Left,
        );
        c.text(
            qty_x,
            y,
            &t.text.quantity,
            Weight::Bold,
            small,
            colours.text,
            Align::Right,
        );
        c.text(
            value_x,
            y,
            &t.text.value,
            Weight::Bold,
            small,
            colours.text,
            Align::Right,
        );
        y += lh(small);
        let listed = if customs.items.len() > max_items {
            max_items.saturating_sub(1)
        } else {
            customs.items.len()
        };
        for item in &customs.items[..listed] {
            let name = regular.fit(&item.description, small, qty_x - x0 - 10.0);
            c.text(
                x0,
                y,
                &name,
                Weight::Regular,
                small,
                colours.text,
                Align::Left,
            );
            c.text(
                qty_x,
                y,
                &item.quantity.to_string(),
                Weight::Regular,
                small,
                colours.text,
                Align::Right,
            );
            c.text(
                value_x,
                y,
                &money(item.value, d),
                Weight::Regular,
                small,
                colours.text,
                Align::Right,
            );
            y += lh(small);
        }
        let rest = &customs.items[listed..];
        if !rest.is_empty() {
            let s = t
                .text
                .more_items
                .get_ref()
                .replace("{count}", &rest.len().to_string());
            let qty: i64 = rest.iter().map(|i| i.quantity).sum();
            let value: rust_decimal::Decimal = rest.iter().map(|i| i.value).sum();
            c.text(x0, y, &s, Weight::Regular, small, colours.text, Align::Left);
            c.text(
                qty_x,
                y,
                &qty.to_string(),
                Weight::Regular,
                small,
                colours.text,
                Align::Right,
            );
            c.text(
                value_x,
                y,
                &money(value, d),
                Weight::Regular,
                small,
                colours.text,
                Align::Right,
            );
            y += lh(small);
        }
        let total = money_with_code(customs.total_value, d, cur);
        c.text(
            x0,
            y,
            &t.text.total_value,
            Weight::Bold,
            small,
            colours.text,
            Align::Left,
        );
        c.text(
            value_x,
            y,
            &total,
            Weight::Bold,
            small,
            colours.text,
            Align::Right,
        );
        y += lh(small);
        if let Some(ioss) = &customs.ioss {
            let s = format!("{}: {ioss}", t.text.ioss);
            c.text(x0, y, &s, Weight::Bold, text, colours.text, Align::Left);
        }
    }
    c.finish()
}
