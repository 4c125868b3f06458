//! Checking and re-encoding uploaded logos. Sizes are checked before decoding and decoding
//! runs under tight `image::Limits`, so a decompression bomb is refused in microseconds.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// Largest accepted upload.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Largest accepted width or height of an upload.
pub const MAX_DIMENSION: u32 = 4096;
/// Stored logos fit in this square (aspect ratio kept); large enough for print at label sizes.
pub const STORED_MAX_DIMENSION: u32 = 600;
/// Decoder allocation cap: a 16-bit RGBA image of MAX_DIMENSION² needs 128 MiB.
const MAX_ALLOC: u64 = 128 * 1024 * 1024;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    /// Larger than [`MAX_BYTES`].
    #[error("the file is {0} bytes; the limit is 2 MB")]
    TooLarge(usize),
    /// Not PNG or JPEG.
    #[error("not a PNG or JPEG image")]
    Unsupported,
    /// Wider or taller than [`MAX_DIMENSION`].
    #[error("the image is {0}×{1} pixels; the limit is 4096×4096")]
    Dimensions(u32, u32),
    /// Corrupt or undecodable.
    #[error("the image cannot be decoded: {0}")]
    Corrupt(String),
}

/// A logo ready to store: PNG, 8 bits per channel, at most [`STORED_MAX_DIMENSION`] a side.
#[derive(Debug, Clone)]
pub struct ProcessedLogo {
    /// PNG bytes.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else {
        None
    }
}

/// Checks and re-encodes an uploaded logo. CPU-bound: call off the async executor.
pub fn process(bytes: &[u8]) -> Result<ProcessedLogo, LogoError> {
    if bytes.len() > MAX_BYTES {
        return Err(LogoError::TooLarge(bytes.len()));
    }
    let format = sniff(bytes).ok_or(LogoError::Unsupported)?;
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|e| LogoError::Corrupt(e.to_string()))?;
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(LogoError::Dimensions(w, h));
    }
    if w == 0 || h == 0 {
        return Err(LogoError::Corrupt("the image has no pixels".into()));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => LogoError::Dimensions(w, h),
        other => LogoError::Corrupt(other.to_string()),
    })?;
    let resized = if w > STORED_MAX_DIMENSION || h > STORED_MAX_DIMENSION {
        decoded.resize(
            STORED_MAX_DIMENSION,
            STORED_MAX_DIMENSION,
            image::imageops::FilterType::Triangle,
        )
    } else {
        decoded
    };
    let normalized = if resized.color().has_alpha() {
        image::DynamicImage::ImageRgba8(resized.to_rgba8())
    } else {
        image::DynamicImage::ImageRgb8(resized.to_rgb8())
    };
    let mut png = Vec::new();
    normalized
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| LogoError::Corrupt(e.to_string()))?;
    Ok(ProcessedLogo {
        png,
        width: normalized.width(),
        height: normalized.height(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::time::{Duration, Instant};

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([10, 20, 30, 128]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    /// A PNG whose header declares `w`×`h` but carries almost no data.
    pub fn bomb_header(w: u32, h: u32) -> Vec<u8> {
        let mut png = png_of(1, 1);
        // IHDR starts at byte 16: width, height (big endian); fix its CRC.
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_large_logo_is_scaled_down_keeping_its_aspect_ratio() {
        let out = process(&png_of(1200, 300)).unwrap();
        assert_eq!((out.width, out.height), (600, 150));
        assert!(out.png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn a_small_logo_keeps_its_size() {
        let out = process(&png_of(120, 40)).unwrap();
        assert_eq!((out.width, out.height), (120, 40));
    }

    #[test]
    fn a_decompression_bomb_is_refused_quickly() {
        let bomb = bomb_header(11_000, 11_000);
        let started = Instant::now();
        assert_eq!(
            process(&bomb).unwrap_err(),
            LogoError::Dimensions(11_000, 11_000)
        );
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    #[test]
    fn non_images_and_oversized_files_are_refused() {
        assert_eq!(
            process(b"%PDF-1.7 hello").unwrap_err(),
            LogoError::Unsupported
        );
        assert!(matches!(
            process(&vec![0u8; MAX_BYTES + 1]).unwrap_err(),
            LogoError::TooLarge(_)
        ));
        let mut truncated = png_of(50, 50);
        truncated.truncate(40);
        assert!(matches!(
            process(&truncated).unwrap_err(),
            LogoError::Corrupt(_)
        ));
    }
}
