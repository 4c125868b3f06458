//! Code128 of a tracking number, as filled rectangles (vector: sharp at any printer
//! resolution, a few hundred bytes).

use barcoders::sym::code128::Code128;

use super::canvas::Canvas;
use super::template::Colour;

/// Longest tracking number accepted (carriers use up to ~35 characters).
pub const MAX_TRACKING_LEN: usize = 40;

/// Why a value cannot be a Code128 barcode here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    /// Empty or longer than [`MAX_TRACKING_LEN`].
    #[error("a tracking number has 1 to {MAX_TRACKING_LEN} characters")]
    Length,
    /// Only printable ASCII is encoded.
    #[error("a tracking number may contain only letters, digits, spaces and ASCII punctuation")]
    Characters,
    /// The encoder refused it.
    #[error("the tracking number cannot be encoded: {0}")]
    Encoder(String),
}

/// Checks a tracking number for the label barcode.
pub fn check(value: &str) -> Result<(), BarcodeError> {
    if value.is_empty() || value.chars().count() > MAX_TRACKING_LEN {
        return Err(BarcodeError::Length);
    }
    if !value.chars().all(|c| (' '..='~').contains(&c)) {
        return Err(BarcodeError::Characters);
    }
    Ok(())
}

/// The modules (1 = bar, 0 = space) of `value`: code set C for an even run of digits (half as
/// wide), code set B otherwise.
pub fn modules(value: &str) -> Result<Vec<u8>, BarcodeError> {
    check(value)?;
    let digits_only = value.len().is_multiple_of(2) && value.chars().all(|c| c.is_ascii_digit());
    let data = if digits_only {
        format!("\u{0106}{value}")
    } else {
        format!("\u{0181}{value}")
    };
    Code128::new(data)
        .map(|c| c.encode())
        .map_err(|e| BarcodeError::Encoder(e.to_string()))
}

/// Draws `modules` centred in `width` mm from `x`, `height` mm tall from `top`, with bars no
/// wider than `max_module` mm and `quiet` mm of blank space on each side. Returns the width
/// drawn.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    canvas: &mut Canvas<'_>,
    modules: &[u8],
    x: f32,
    top: f32,
    width: f32,
    height: f32,
    max_module: f32,
    quiet: f32,
    ink: Colour,
) -> f32 {
    if modules.is_empty() {
        return 0.0;
    }
    // A module count is far below f32's exact integer range.
    #[allow(clippy::cast_precision_loss)]
    let count = modules.len() as f32;
    let module = ((width - 2.0 * quiet) / count).min(max_module).max(0.05);
    let drawn = module * count;
    let left = x + (width - drawn) / 2.0;
    let mut i = 0;
    while i < modules.len() {
        if modules[i] == 1 {
            let start = i;
            while i < modules.len() && modules[i] == 1 {
                i += 1;
            }
            #[allow(clippy::cast_precision_loss)]
            let (from, run) = (start as f32, (i - start) as f32);
            canvas.rect(left + from * module, top, run * module, height, ink);
        } else {
            i += 1;
        }
    }
    drawn
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn tracking_numbers_are_printable_ascii_of_sensible_length() {
        assert!(check("1Z999AA10123456784").is_ok());
        assert!(check("JD 0146 0000 1234").is_ok());
        assert_eq!(check(""), Err(BarcodeError::Length));
        assert_eq!(check(&"9".repeat(41)), Err(BarcodeError::Length));
        assert_eq!(check("ŁÓDŹ-1"), Err(BarcodeError::Characters));
    }

    #[test]
    fn even_digit_runs_encode_denser_than_mixed_text() {
        let digits = modules("12345678").unwrap();
        let mixed = modules("AB345678").unwrap();
        assert!(digits.len() < mixed.len());
        assert!(digits.iter().all(|m| *m <= 1));
        // Start, payload, checksum, stop: 11 modules per symbol plus the 2-module terminator.
        assert_eq!(digits.len() % 11, 2);
    }
}
