//! The pick list layout: a title with the totals, then one row per product in walking order
//! (a box to tick, bin, SKU, name, quantity, the orders it goes to), flowing onto as many pages
//! as it needs, the table header repeated on each.

use std::collections::HashMap;

use printpdf::{PdfPage, XObjectId};

use super::canvas::{page_label, Align, Canvas, Flow, Frame, Typeface, Weight};
use super::fonts::{Face, MM_PER_PT};
use super::model::{PickLine, PickList};
use super::template::{PaperSize, PickListTemplate};

/// The template and its frame on the paper.
type Layout<'t> = super::canvas::Layout<'t, PickListTemplate>;

/// Side of a product picture on the list, in mm.
const PICTURE: f32 = 11.0;

/// Left edges of the columns, and the right edge of the quantity.
struct Columns {
    checkbox: Option<f32>,
    picture: Option<f32>,
    bin: f32,
    sku: f32,
    item: f32,
    item_width: f32,
    qty: f32,
    orders: Option<f32>,
    orders_width: f32,
}

fn columns(l: &Layout<'_>, pictures: bool) -> Columns {
    let t = l.t;
    let (checkbox, after_box) = if t.blocks.checkbox {
        (Some(l.x0), l.x0 + 7.0)
    } else {
        (None, l.x0)
    };
    let (picture, bin) = if pictures {
        (Some(after_box), after_box + PICTURE + 2.0)
    } else {
        (None, after_box)
    };
    let sku = bin + 22.0;
    let item = sku + 32.0;
    let orders_width = if t.blocks.orders {
        ((l.x1 - l.x0) * 0.27).max(30.0)
    } else {
        0.0
    };
    let orders = t.blocks.orders.then_some(l.x1 - orders_width);
    let qty = l.x1 - orders_width - if t.blocks.orders { 3.0 } else { 0.0 };
    Columns {
        checkbox,
        picture,
        bin,
        sku,
        item,
        item_width: (qty - 16.0 - item).max(20.0),
        qty,
        orders,
        orders_width,
    }
}

/// The title block (first page: with the totals); returns the y below it.
fn header(c: &mut Canvas<'_>, l: &Layout<'_>, list: &PickList, first: bool) -> f32 {
    let t = l.t;
    let (title, text) = (t.sizes.title.0, t.sizes.text.0);
    let mut y = t.page.margin_top.0;
    c.text(
        l.x0,
        y,
        &t.text.title,
        Weight::Bold,
        title,
        t.colors.accent,
        Align::Left,
    );
    let printed = format!(
        "{} {}",
        t.text.printed,
        list.printed_at.format(t.text.date_format.get_ref())
    );
    c.text(
        l.x1,
        y + l.line(title) - l.line(text),
        &printed,
        Weight::Regular,
        text,
        t.colors.muted,
        Align::Right,
    );
    y += l.line(title);
    if first {
        let units: i64 = list.lines.iter().map(|p| p.quantity).sum();
        let summary = t
            .text
            .summary
            .get_ref()
            .replace("{orders}", &list.order_count.to_string())
            .replace("{units}", &units.to_string())
            .replace("{lines}", &list.lines.len().to_string());
        c.text(
            l.x0,
            y,
            &summary,
            Weight::Regular,
            text,
            t.colors.text,
            Align::Left,
        );
        y += l.line(text);
    }
    y + 3.0
}

fn table_header(c: &mut Canvas<'_>, l: &Layout<'_>, cols: &Columns, y: f32) -> f32 {
    let t = l.t;
    let h = t.sizes.heading.0;
    let height = l.line(h) + 3.0;
    c.rect(l.x0, y, l.x1 - l.x0, height, t.colors.table_header);
    let ty = y + 1.5;
    let (bold, col) = (Weight::Bold, t.colors.text);
    c.text(cols.bin + 1.0, ty, &t.text.bin, bold, h, col, Align::Left);
    c.text(cols.sku + 1.0, ty, &t.text.sku, bold, h, col, Align::Left);
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
    if let Some(x) = cols.orders {
        c.text(x + 1.0, ty, &t.text.orders, bold, h, col, Align::Left);
    }
    y + height + 1.0
}

/// The orders of a line as text lines of at most `width` mm, at most `max_lines` of them; when
/// they do not all fit, the last line ends with "+N more".
pub fn order_lines(
    face: &Face,
    t: &PickListTemplate,
    orders: &[(String, i64)],
    size: f32,
    width: f32,
) -> Vec<String> {
    let max_lines = usize::try_from(*t.orders.max_lines.get_ref())
        .unwrap_or(4)
        .max(1);
    let items: Vec<String> = orders
        .iter()
        .map(|(number, units)| {
            if *units > 1 {
                format!("#{number} ×{units}")
            } else {
                format!("#{number}")
            }
        })
        .collect();
    let more = |n: usize| {
        t.text
            .more_orders
            .get_ref()
            .replace("{count}", &n.to_string())
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, item) in items.iter().enumerate() {
        let candidate = if current.is_empty() {
            item.clone()
        } else {
            format!("{current}, {item}")
        };
        if face.width_mm(&candidate, size) <= width || current.is_empty() {
            current = candidate;
            continue;
        }
        if lines.len() + 1 == max_lines {
            // The last line: as many as fit with "+N more" after them.
            let mut shown = current;
            let mut rest = items.len() - i;
            loop {
                let with_more = format!("{shown} {}", more(rest));
                if face.width_mm(&with_more, size) <= width || !shown.contains(", ") {
                    lines.push(with_more);
                    return lines;
                }
                shown = shown
                    .rsplit_once(", ")
                    .map(|(head, _)| head.to_string())
                    .unwrap_or_default();
                rest += 1;
            }
        }
        lines.push(std::mem::replace(&mut current, item.clone()));
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// A row's texts, measured.
struct Row {
    names: Vec<String>,
    bundles: Option<String>,
    orders: Vec<String>,
    height: f32,
}

fn row(l: &Layout<'_>, cols: &Columns, face: &Face, line: &PickLine) -> Row {
    let t = l.t;
    let (text, small) = (t.sizes.text.0, t.sizes.small.0);
    let names = face.wrap(&line.name, text, cols.item_width - 2.0, 2);
    let bundles = (!line.bundles.is_empty()).then(|| {
        let s = t
            .text
            .for_bundles
            .get_ref()
            .replace("{bundles}", &line.bundles.join(", "));
        face.fit(&s, small, cols.item_width - 2.0)
    });
    let orders = if cols.orders.is_some() {
        order_lines(face, t, &line.orders, small, cols.orders_width - 2.0)
    } else {
        Vec::new()
    };
    // Both counts are small.
    #[allow(clippy::cast_precision_loss)]
    let left = names.len() as f32 * l.line(text)
        + if bundles.is_some() {
            l.line(small)
        } else {
            0.0
        };
    #[allow(clippy::cast_precision_loss)]
    let right = orders.len() as f32 * l.line(small);
    let picture = if cols.picture.is_some() && line.picture.is_some() {
        PICTURE
    } else {
        0.0
    };
    let height = left.max(right).max(picture).max(l.line(t.sizes.quantity.0)) + 2.5;
    Row {
        names,
        bundles,
        orders,
        height,
    }
}

#[allow(clippy::too_many_arguments)]
fn draw_row(
    c: &mut Canvas<'_>,
    l: &Layout<'_>,
    cols: &Columns,
    line: &PickLine,
    r: &Row,
    y: f32,
    pictures: &HashMap<String, XObjectId>,
) {
    let t = l.t;
    let (text, small, qty) = (t.sizes.text.0, t.sizes.small.0, t.sizes.quantity.0);
    let face = c.type_.face(Weight::Regular);
    let ty = y + 1.2;
    let col = t.colors.text;
    if let Some(x) = cols.checkbox {
        // An empty box: four thin sides.
        let (side, w, col) = (3.6, 0.25, t.colors.text);
        let x = x + 0.5;
        c.rect(x, ty, side, w, col);
        c.rect(x, ty + side - w, side, w, col);
        c.rect(x, ty, w, side, col);
        c.rect(x + side - w, ty, w, side, col);
    }
    if let (Some(x), Some(p)) = (cols.picture, &line.picture) {
        if let Some(id) = pictures.get(&p.key) {
            let (w, h) = super::invoice::logo_size(p.pixels(), PICTURE, PICTURE);
            c.image(id, p.pixels(), x + (PICTURE - w) / 2.0, ty - 0.2, w, h);
        }
    }
    if let Some(bin) = &line.bin {
        let bin = c
            .type_
            .face(Weight::Bold)
            .fit(bin, text, cols.sku - cols.bin - 2.0);
        c.text(
            cols.bin + 1.0,
            ty,
            &bin,
            Weight::Bold,
            text,
            col,
            Align::Left,
        );
    }
    let sku = face.fit(&line.sku, text, cols.item - cols.sku - 2.0);
    c.text(
        cols.sku + 1.0,
        ty,
        &sku,
        Weight::Regular,
        text,
        col,
        Align::Left,
    );
    let mut ny = ty;
    for name in &r.names {
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
    if let Some(b) = &r.bundles {
        c.text(
            cols.item + 1.0,
            ny,
            b,
            Weight::Regular,
            small,
            t.colors.muted,
            Align::Left,
        );
    }
    // The quantity's baseline is the first name line's, a larger size rising above it.
    let bold = c.type_.face(Weight::Bold);
    let qty_top = ty + (face.ascent * text - bold.ascent * qty) * MM_PER_PT;
    c.text(
        cols.qty - 1.0,
        qty_top,
        &line.quantity.to_string(),
        Weight::Bold,
        qty,
        col,
        Align::Right,
    );
    if let Some(x) = cols.orders {
        let mut oy = ty;
        for o in &r.orders {
            c.text(
                x + 1.0,
                oy,
                o,
                Weight::Regular,
                small,
                t.colors.muted,
                Align::Left,
            );
            oy += l.line(small);
        }
    }
}

fn footer(c: &mut Canvas<'_>, l: &Layout<'_>, page: usize, pages: usize) {
    let t = l.t;
    if !t.blocks.page_numbers {
        return;
    }
    let small = t.sizes.small.0;
    let y = l.height - t.page.margin_bottom.0 - l.line(small);
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

/// Lays out the pick list on `paper`; its pages, in order.
pub fn pages(
    t: &PickListTemplate,
    paper: PaperSize,
    list: &PickList,
    type_: &Typeface<'_>,
    pictures: &HashMap<String, XObjectId>,
) -> Vec<PdfPage> {
    let mut l = Layout {
        t,
        frame: Frame::new(paper, &t.page, t.sizes.line_spacing.0),
    };
    l.frame.limit -= l.line(t.sizes.small.0) + 2.0;
    let shown = t.blocks.thumbnails && list.lines.iter().any(|p| p.picture.is_some());
    let cols = columns(&l, shown);
    let face = type_.face(Weight::Regular);
    let mut flow = Flow::new();
    let mut c = Canvas::new(l.width, l.height, type_);
    let mut y = header(&mut c, &l, list, true);
    y = table_header(&mut c, &l, &cols, y);
    for line in &list.lines {
        let r = row(&l, &cols, face, line);
        if y + r.height > l.limit {
            flow.turn(&mut c);
            y = header(&mut c, &l, list, false);
            y = table_header(&mut c, &l, &cols, y);
        }
        draw_row(&mut c, &l, &cols, line, &r, y, pictures);
        y += r.height;
        c.rule(l.x0, l.x1, y, 0.15, t.colors.rule);
    }
    if !list.nothing_to_pick.is_empty() {
        let small = t.sizes.small.0;
        let numbers: Vec<String> = list
            .nothing_to_pick
            .iter()
            .map(|n| format!("#{n}"))
            .collect();
        let s = t
            .text
            .nothing_to_pick
            .get_ref()
            .replace("{orders}", &numbers.join(", "));
        let lines = face.wrap(&s, small, l.x1 - l.x0, 6);
        // At most six lines.
        #[allow(clippy::cast_precision_loss)]
        let needed = lines.len() as f32 * l.line(small) + 4.0;
        if y + needed > l.limit {
            flow.turn(&mut c);
            y = header(&mut c, &l, list, false);
        }
        y += 4.0;
        for s in &lines {
            c.text(
                l.x0,
                y,
                s,
                Weight::Regular,
                small,
                t.colors.muted,
                Align::Left,
            );
            y += l.line(small);
        }
    }
    flow.finish(c, |c, page, pages| footer(c, &l, page, pages))
}
