//! Embedded TrueType faces: parsed once at start, measured for layout, added to each PDF
//! (printpdf subsets them to the glyphs used when it saves, thanks to `text_layout`).

use printpdf::ParsedFont;

/// Millimetres per point.
pub const MM_PER_PT: f32 = 25.4 / 72.0;

/// One parsed face and its metrics.
#[derive(Clone)]
pub struct Face {
    /// The face printpdf embeds.
    pub parsed: ParsedFont,
    units_per_em: f32,
    /// Ascender as a fraction of the em.
    pub ascent: f32,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("units_per_em", &self.units_per_em)
            .finish_non_exhaustive()
    }
}

impl Face {
    /// Parses a TrueType file; refuses one that cannot be embedded or shows no Latin text.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| "not a TrueType/OpenType font".to_string())?;
        if !parsed.has_source_bytes() {
            return Err("the font cannot be embedded".into());
        }
        let units = parsed.pdf_font_metrics.units_per_em;
        if units == 0 {
            return Err("the font has no units per em".into());
        }
        if parsed.lookup_glyph_index(u32::from('A')).is_none() {
            return Err("the font has no Latin letters".into());
        }
        let units_per_em = f32::from(units);
        let ascent = f32::from(parsed.pdf_font_metrics.ascender) / units_per_em;
        Ok(Self {
            parsed,
            units_per_em,
            ascent,
        })
    }

    /// Width of `text` at `size` points, in millimetres.
    pub fn width_mm(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let gid = self.parsed.lookup_glyph_index(u32::from(c)).unwrap_or(0);
                u32::from(self.parsed.get_horizontal_advance(gid))
            })
            .sum();
        // Glyph advances of one line stay far below f32's exact integer range.
        #[allow(clippy::cast_precision_loss)]
        let units = units as f32;
        units / self.units_per_em * size * MM_PER_PT
    }

    /// `text` cut (with an ellipsis) to fit `width` mm at `size` points.
    pub fn fit(&self, text: &str, size: f32, width: f32) -> String {
        if self.width_mm(text, size) <= width {
            return text.to_string();
        }
        let ellipsis = "…";
        let room = width - self.width_mm(ellipsis, size);
        let mut out = String::new();
        let mut used = 0.0;
        for c in text.chars() {
            let w = self.width_mm(c.encode_utf8(&mut [0u8; 4]), size);
            if used + w > room {
                break;
            }
            used += w;
            out.push(c);
        }
        format!("{}{ellipsis}", out.trim_end())
    }

    /// `text` broken into lines of at most `width` mm (at spaces, or inside a word too long
    /// for a line), at most `max_lines` of them (the last one cut with an ellipsis).
    pub fn wrap(&self, text: &str, size: f32, width: f32, max_lines: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if self.width_mm(&candidate, size) <= width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            // A word wider than the line is split where it overflows.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if self.width_mm(&piece, size) > width && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            current = piece;
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        if lines.len() > max_lines.max(1) {
            let keep = max_lines.max(1);
            let rest = lines[keep - 1..].join(" ");
            lines.truncate(keep - 1);
            lines.push(self.fit(&rest, size, width));
        }
        lines
    }
}

/// The regular and bold faces of a template.
#[derive(Clone, Debug)]
pub struct FontPair {
    /// Body text.
    pub regular: Face,
    /// Headings and emphasis.
    pub bold: Face,
    /// The template names one file for both: only it is embedded, and bold text is the
    /// regular face drawn with an outline (one font to subset instead of two: faster).
    pub synthetic_bold: bool,
}
