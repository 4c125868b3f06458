//! Checking and re-encoding uploaded logos. Sizes are checked before decoding; metadata
//! (colour profiles, text, EXIF) is dropped before the decoder sees the file (see
//! `logo_image/strip.rs`); the only decoder pass runs under tight `image::Limits`. So a
//! decompression bomb, in the pixels or in the metadata, is refused or ignored in
//! microseconds, and the stored logo never carries a profile.

mod strip;

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

/// The format by the file's first bytes (the declared name and type do not matter).
fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(strip::PNG_SIGNATURE) {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else {
        None
    }
}

/// The limits of every decoder pass: the header pass inside `ImageReader::decode` included,
/// which on its own would run under the crate's defaults (512 MiB).
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Checks and re-encodes an uploaded logo. CPU-bound: call off the async executor.
pub fn process(bytes: &[u8]) -> Result<ProcessedLogo, LogoError> {
    process_within(bytes, STORED_MAX_DIMENSION)
}

/// Checks and re-encodes a PNG or JPEG to fit a `side` × `side` square (a logo, a product
/// picture's thumbnail), with the same checks as [`process`]. CPU-bound.
pub fn process_within(bytes: &[u8], side: u32) -> Result<ProcessedLogo, LogoError> {
    if bytes.len() > MAX_BYTES {
        return Err(LogoError::TooLarge(bytes.len()));
    }
    let format = sniff(bytes).ok_or(LogoError::Unsupported)?;
    // The size comes from our own reading of the header, not from a decoder.
    let stripped = match format {
        ImageFormat::Png => strip::png(bytes)?,
        _ => strip::jpeg(bytes)?,
    };
    let (w, h) = (stripped.width, stripped.height);
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(LogoError::Dimensions(w, h));
    }
    if w == 0 || h == 0 {
        return Err(LogoError::Corrupt("the image has no pixels".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(stripped.bytes), format);
    reader.limits(limits());
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => LogoError::Dimensions(w, h),
        other => LogoError::Corrupt(other.to_string()),
    })?;
    if (decoded.width(), decoded.height()) != (w, h) {
        return Err(LogoError::Corrupt(
            "the image's size differs from its header's".into(),
        ));
    }
    let resized = if w > side || h > side {
        decoded.resize(side, side, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    let normalized = if resized.color().has_alpha() {
        image::DynamicImage::ImageRgba8(resized.to_rgba8())
    } else {
        image::DynamicImage::ImageRgb8(resized.to_rgb8())
    };
    // Written without an ICC profile or any other metadata.
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

    /// A zlib stream of `n` zeros, made in 1 MiB steps (1 GiB of zeros deflates to ~1 MB).
    fn zlib_zeros(n: usize) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let step = vec![0u8; 1 << 20];
        for _ in 0..n / step.len() {
            encoder.write_all(&step).unwrap();
        }
        encoder.finish().unwrap()
    }

    /// One zlib stream inflating to 1 GiB, made once for all the tests that use it.
    fn gib_of_zeros() -> &'static [u8] {
        static ZEROS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        ZEROS.get_or_init(|| zlib_zeros(1 << 30))
    }

    /// A PNG chunk: length, type, data, CRC.
    pub(super) fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[4..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// A valid 10×10 PNG with `kind` (a chunk whose data is `head` then 1 GiB of zeros,
    /// deflated) right after IHDR, where the decoder reads it before the pixels.
    fn metadata_bomb(kind: &[u8; 4], head: &[u8]) -> Vec<u8> {
        let png = png_of(10, 10);
        let data = [head, gib_of_zeros()].concat();
        [&png[..33], &chunk(kind, &data), &png[33..]].concat()
    }

    /// `process` must answer within this, on the slowest machine the tests run on.
    const QUICK: Duration = Duration::from_millis(500);

    fn assert_stored_without_metadata(bomb: &[u8]) {
        assert!(
            bomb.len() > 1_000_000 && bomb.len() < MAX_BYTES,
            "{}",
            bomb.len()
        );
        let started = Instant::now();
        let out = process(bomb).unwrap();
        assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
        assert_eq!((out.width, out.height), (10, 10));
        assert!(out.png.len() < 1_000, "{}", out.png.len());
        for kind in [b"iCCP", b"zTXt", b"iTXt", b"tEXt"] {
            assert!(!out.png.windows(4).any(|w| w == kind), "{kind:?} kept");
        }
    }

    #[test]
    fn a_png_whose_colour_profile_inflates_to_a_gibibyte_is_stored_without_it_quickly() {
        assert_stored_without_metadata(&metadata_bomb(b"iCCP", b"sRGB\0\0"));
    }

    #[test]
    fn a_png_whose_compressed_text_inflates_to_a_gibibyte_is_stored_without_it_quickly() {
        assert_stored_without_metadata(&metadata_bomb(b"zTXt", b"Comment\0\0"));
        assert_stored_without_metadata(&metadata_bomb(b"iTXt", b"XML:com.adobe.xmp\0\x01\0\0\0"));
    }

    #[test]
    fn a_png_whose_chunk_claims_more_bytes_than_the_file_has_is_refused() {
        let mut lying = metadata_bomb(b"iCCP", b"sRGB\0\0");
        lying[33..37].copy_from_slice(&0x7FFF_0000u32.to_be_bytes());

        assert!(matches!(process(&lying), Err(LogoError::Corrupt(_))));
    }

    #[test]
    fn a_png_whose_pixel_data_inflates_to_a_gibibyte_is_decoded_no_further_than_its_rows() {
        // A 10×10 RGBA PNG's rows (a filter byte and 40 bytes each) may all be zeros: the
        // first 410 of the gibibyte are the pixels, the rest trails them in the same stream.
        let png = png_of(10, 10);
        let bomb = [
            &png[..33],
            &chunk(b"IDAT", gib_of_zeros()),
            &chunk(b"IEND", b""),
        ]
        .concat();

        let started = Instant::now();
        let out = process(&bomb).unwrap();

        assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
        assert_eq!((out.width, out.height), (10, 10));
    }

    /// A valid 10×10 JPEG with `segments` APP2 ICC segments of 64 KiB each after SOI.
    fn jpeg_with_icc(segments: u8) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(10, 10, image::Rgb([1, 2, 3]));
        let mut jpeg = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let mut app2 = Vec::new();
        for seq in 1..=segments {
            app2.extend_from_slice(&[0xFF, 0xE2, 0xFF, 0xFF]);
            app2.extend_from_slice(b"ICC_PROFILE\0");
            app2.extend_from_slice(&[seq, segments]);
            app2.resize(app2.len() + 0xFFFF - 16, 0x5A);
        }
        [&jpeg[..2], &app2, &jpeg[2..]].concat()
    }

    #[test]
    fn a_jpeg_with_a_two_megabyte_colour_profile_is_stored_without_it_quickly() {
        let bomb = jpeg_with_icc(31);
        assert!(
            bomb.len() > 2_000_000 && bomb.len() < MAX_BYTES,
            "{}",
            bomb.len()
        );

        let started = Instant::now();
        let out = process(&bomb).unwrap();

        assert!(started.elapsed() < QUICK, "{:?}", started.elapsed());
        assert_eq!((out.width, out.height), (10, 10));
        assert!(!out.png.windows(4).any(|w| w == b"iCCP"));
    }

    #[test]
    fn a_jpeg_whose_segment_claims_more_bytes_than_the_file_has_is_refused() {
        let mut bomb = jpeg_with_icc(1);
        bomb.truncate(1_000);

        assert!(matches!(process(&bomb), Err(LogoError::Corrupt(_))));
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
