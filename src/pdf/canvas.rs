//! A page being drawn: millimetres measured from the top-left corner (as people lay out paper),
//! turned into printpdf operations in points from the bottom-left corner.

use printpdf::{
    Color, FontId, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, PdfPage, Point, Pt, Rect,
    Rgb, TextItem, TextMatrix, TextRenderingMode, XObjectId, XObjectTransform,
};

use super::fonts::{Face, FontPair, MM_PER_PT};
use super::template::Colour;

/// Regular or bold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    /// Body text.
    Regular,
    /// Emphasis.
    Bold,
}

/// Horizontal anchoring of a text at its `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// `x` is the left edge.
    Left,
    /// `x` is the right edge.
    Right,
    /// `x` is the centre.
    Center,
}

/// The fonts of one PDF: the faces (for measuring) and their ids in the document.
pub struct Typeface<'a> {
    /// Parsed faces.
    pub faces: &'a FontPair,
    /// Document id of the regular face.
    pub regular: FontId,
    /// Document id of the bold face.
    pub bold: FontId,
}

impl Typeface<'_> {
    /// The face of `weight`.
    pub fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.faces.regular,
            Weight::Bold => &self.faces.bold,
        }
    }

    fn id(&self, weight: Weight) -> &FontId {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }
}

fn pt(mm: f32) -> Pt {
    Pt(mm / MM_PER_PT)
}

fn colour(c: Colour) -> Color {
    Color::Rgb(Rgb {
        r: c.0,
        g: c.1,
        b: c.2,
        icc_profile: None,
    })
}

/// One page of drawing operations.
pub struct Canvas<'a> {
    ops: Vec<Op>,
    width: f32,
    height: f32,
    /// The document's fonts.
    pub type_: &'a Typeface<'a>,
}

impl<'a> Canvas<'a> {
    /// A blank page of `width` × `height` mm.
    pub fn new(width: f32, height: f32, type_: &'a Typeface<'a>) -> Self {
        Self {
            ops: Vec::with_capacity(256),
            width,
            height,
            type_,
        }
    }

    /// Writes one line of text whose line box starts `top` mm below the page's top edge.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        x: f32,
        top: f32,
        text: &str,
        weight: Weight,
        size: f32,
        fill: Colour,
        align: Align,
    ) {
        if text.is_empty() {
            return;
        }
        let face = self.type_.face(weight);
        let left = match align {
            Align::Left => x,
            Align::Right => x - face.width_mm(text, size),
            Align::Center => x - face.width_mm(text, size) / 2.0,
        };
        let baseline = top + face.ascent * size * MM_PER_PT;
        let synthetic = weight == Weight::Bold && self.type_.faces.synthetic_bold;
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(self.type_.id(weight).clone()),
                size: Pt(size),
            },
            Op::SetFillColor { col: colour(fill) },
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(pt(left), pt(self.height - baseline)),
            },
        ]);
        if synthetic {
            // An outline of 3.5 % of the size, in the text colour, thickens the strokes.
            self.ops.extend([
                Op::SetOutlineColor { col: colour(fill) },
                Op::SetOutlineThickness {
                    pt: Pt(size * 0.035),
                },
                Op::SetTextRenderingMode {
                    mode: TextRenderingMode::FillStroke,
                },
            ]);
        }
        self.ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.to_string())],
        });
        if synthetic {
            self.ops.push(Op::SetTextRenderingMode {
                mode: TextRenderingMode::Fill,
            });
        }
        self.ops.push(Op::EndTextSection);
    }

    /// A filled rectangle whose top-left corner is at (`x`, `top`).
    pub fn rect(&mut self, x: f32, top: f32, width: f32, height: f32, fill: Colour) {
        self.ops.push(Op::SetFillColor { col: colour(fill) });
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(self.height - top - height),
                width: pt(width),
                height: pt(height),
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    /// A horizontal rule from `x1` to `x2` at `y`.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32, stroke: Colour) {
        let y = pt(self.height - y);
        self.ops.extend([
            Op::SetOutlineColor {
                col: colour(stroke),
            },
            Op::SetOutlineThickness { pt: pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![
                        LinePoint {
                            p: Point { x: pt(x1), y },
                            bezier: false,
                        },
                        LinePoint {
                            p: Point { x: pt(x2), y },
                            bezier: false,
                        },
                    ],
                    is_closed: false,
                },
            },
        ]);
    }

    /// Places an image of `pixels` scaled to `width` × `height` mm, top-left at (`x`, `top`).
    pub fn image(
        &mut self,
        id: &XObjectId,
        pixels: (usize, usize),
        x: f32,
        top: f32,
        width: f32,
        height: f32,
    ) {
        // At 72 dpi one pixel is one point, so the scale is the wanted size in points over the
        // pixel count.
        #[allow(clippy::cast_precision_loss)]
        let (pw, ph) = (pixels.0.max(1) as f32, pixels.1.max(1) as f32);
        self.ops.push(Op::UseXobject {
            id: id.clone(),
            transform: XObjectTransform {
                translate_x: Some(pt(x)),
                translate_y: Some(pt(self.height - top - height)),
                scale_x: Some(pt(width).0 / pw),
                scale_y: Some(pt(height).0 / ph),
                dpi: Some(72.0),
                ..Default::default()
            },
        });
    }

    /// The finished page.
    pub fn finish(self) -> PdfPage {
        PdfPage::new(Mm(self.width), Mm(self.height), self.ops)
    }
}

/// The pages of one document as it flows: the canvases finished so far.
#[derive(Default)]
pub struct Flow<'a> {
    done: Vec<Canvas<'a>>,
}

impl<'a> Flow<'a> {
    /// No page finished yet.
    pub fn new() -> Self {
        Self { done: Vec::new() }
    }

    /// Puts `c` aside as a finished page and gives a blank one of the same size in its place.
    pub fn turn(&mut self, c: &mut Canvas<'a>) {
        let blank = Canvas::new(c.width, c.height, c.type_);
        self.done.push(std::mem::replace(c, blank));
    }

    /// Every page, `last` included, once `footer(canvas, page, pages)` has drawn on each.
    pub fn finish(
        self,
        last: Canvas<'a>,
        mut footer: impl FnMut(&mut Canvas<'a>, usize, usize),
    ) -> Vec<PdfPage> {
        let mut all = self.done;
        all.push(last);
        let pages = all.len();
        all.into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                footer(&mut c, i + 1, pages);
                c.finish()
            })
            .collect()
    }
}

/// A template's page-number text (`"Page {page} of {pages}"`) filled in.
pub fn page_label(template: &str, page: usize, pages: usize) -> String {
    template
        .replace("{pages}", &pages.to_string())
        .replace("{page}", &page.to_string())
}

/// Where a document's text goes on its paper: the paper's size, the column between the side
/// margins, the top margin, and the lowest line the content may reach.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Paper width (mm).
    pub width: f32,
    /// Paper height (mm).
    pub height: f32,
    /// Left edge of the column.
    pub x0: f32,
    /// Right edge of the column.
    pub x1: f32,
    /// Top of the content.
    pub top: f32,
    /// Lowest y the content may reach (what sits below is the footer's).
    pub limit: f32,
    /// Line spacing as a multiple of the font size.
    spacing: f32,
}

impl Frame {
    /// The frame of `page`'s margins on `paper`, the content reaching down to the bottom
    /// margin (a layout lowers `limit` for its footer).
    pub fn new(
        paper: super::template::PaperSize,
        page: &super::template::PageSpec,
        spacing: f32,
    ) -> Self {
        let (width, height) = paper.size_mm();
        Self {
            width,
            height,
            x0: page.margin_left.0,
            x1: width - page.margin_right.0,
            top: page.margin_top.0,
            limit: height - page.margin_bottom.0,
            spacing,
        }
    }

    /// Height of a line of text of `size` points (mm).
    pub fn line(&self, size: f32) -> f32 {
        size * self.spacing * MM_PER_PT
    }
}

/// A document's template and its frame on the paper; the frame's fields read through it.
pub struct Layout<'t, T> {
    /// The template.
    pub t: &'t T,
    /// Where the content goes.
    pub frame: Frame,
}

impl<T> std::ops::Deref for Layout<'_, T> {
    type Target = Frame;
    fn deref(&self) -> &Frame {
        &self.frame
    }
}
