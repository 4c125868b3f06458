//! Rewrites an upload keeping only what rendering needs, before any decoder sees it, and reads
//! its declared size from its header. Colour profiles, text and EXIF are dropped: the PNG
//! decoder inflates an `iCCP` profile up to its whole allocation limit (and ignores the
//! failure), so a 1 MB file could hold it busy with hundreds of megabytes. Every length is
//! checked against the file, so what comes out is never larger than what came in.

use super::LogoError;

/// An upload with its metadata removed, and the size its header declares.
#[derive(Debug)]
pub(super) struct Stripped {
    /// The rewritten file (never larger than the upload).
    pub bytes: Vec<u8>,
    /// Declared width in pixels.
    pub width: u32,
    /// Declared height in pixels.
    pub height: u32,
}

fn corrupt(what: &str) -> LogoError {
    LogoError::Corrupt(what.to_string())
}

pub(super) const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The PNG chunks rendering needs; every other one (iCCP, tEXt, zTXt, iTXt, eXIf, gAMA, sRGB,
/// cHRM, cICP, animation chunks, …) is dropped. The decoder applies none of the dropped
/// ones to the pixels, so the logo renders the same.
const PNG_KEPT: [&[u8; 4]; 5] = [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"];

/// Keeps the PNG's rendering chunks, copied whole with their CRCs (the decoder checks them).
/// IHDR must come first and IEND must be there; an unknown critical chunk (one the image
/// cannot be rendered without) is refused rather than dropped.
pub(super) fn png(bytes: &[u8]) -> Result<Stripped, LogoError> {
    let mut rest = bytes
        .strip_prefix(PNG_SIGNATURE)
        .ok_or(LogoError::Unsupported)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(PNG_SIGNATURE);
    let mut size = None;
    loop {
        let (len, kind) = match rest {
            [a, b, c, d, k0, k1, k2, k3, ..] => {
                (u32::from_be_bytes([*a, *b, *c, *d]), [*k0, *k1, *k2, *k3])
            }
            _ => return Err(corrupt("the PNG ends before its IEND chunk")),
        };
        // Length, type, data, CRC.
        let total = usize::try_from(len)
            .ok()
            .and_then(|n| n.checked_add(12))
            .filter(|&n| n <= rest.len())
            .ok_or_else(|| corrupt("a PNG chunk runs past the end of the file"))?;
        let (chunk, after) = rest.split_at(total);
        match (&kind, size) {
            (b"IHDR", None) if len == 13 => {
                let word = |at: usize| {
                    u32::from_be_bytes([chunk[at], chunk[at + 1], chunk[at + 2], chunk[at + 3]])
                };
                size = Some((word(8), word(12)));
            }
            (_, None) => return Err(corrupt("the PNG does not start with its IHDR chunk")),
            (b"IHDR", Some(_)) => return Err(corrupt("the PNG has two IHDR chunks")),
            _ => {}
        }
        if PNG_KEPT.contains(&&kind) {
            out.extend_from_slice(chunk);
        } else if kind[0].is_ascii_uppercase() {
            return Err(corrupt("the PNG has a critical chunk of an unknown type"));
        }
        if &kind == b"IEND" {
            break;
        }
        rest = after;
    }
    let (width, height) = size.ok_or_else(|| corrupt("the PNG has no IHDR chunk"))?;
    Ok(Stripped {
        bytes: out,
        width,
        height,
    })
}

pub(super) const JPEG_SOI: &[u8] = &[0xFF, 0xD8];
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
/// APP0 (JFIF) and APP14 (Adobe: whether the pixels are RGB or YCbCr) change how the pixels
/// decode; the other APPn segments (EXIF in APP1, the ICC profile in APP2, XMP, …) and comments
/// are dropped.
const JPEG_KEPT_APP: [u8; 2] = [0xE0, 0xEE];
const COM: u8 = 0xFE;

/// A start-of-frame marker (SOF0–SOF15 except DHT, JPG and DAC), which holds the size.
fn is_sof(marker: u8) -> bool {
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Drops the JPEG's metadata segments before its first scan, each segment's length checked
/// against the file; from the first scan (SOS) on the file is copied as it is. Segments
/// there are rare; the decoder copies any it meets once each, so they cost at most the file's
/// size (at most 2 MB, as each APPn segment is at most 64 KiB long).
pub(super) fn jpeg(bytes: &[u8]) -> Result<Stripped, LogoError> {
    let mut rest = bytes.strip_prefix(JPEG_SOI).ok_or(LogoError::Unsupported)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(JPEG_SOI);
    let mut size = None;
    loop {
        // A marker is 0xFF (any number of them: fill bytes) and a code.
        let fill = rest.iter().take_while(|&&b| b == 0xFF).count();
        if fill == 0 {
            return Err(corrupt("the JPEG has data where a marker belongs"));
        }
        let marker = *rest
            .get(fill)
            .ok_or_else(|| corrupt("the JPEG ends before its first scan"))?;
        rest = &rest[fill + 1..];
        if marker == EOI {
            return Err(corrupt("the JPEG ends before its first scan"));
        }
        // Every marker before the first scan has a length (counting its own two bytes).
        let len = match rest {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => return Err(corrupt("a JPEG segment runs past the end of the file")),
        };
        if len < 2 || len > rest.len() {
            return Err(corrupt("a JPEG segment runs past the end of the file"));
        }
        let (segment, after) = rest.split_at(len);
        if is_sof(marker) {
            // Length, precision, height, width.
            let [_, _, _, h0, h1, w0, w1, ..] = *segment else {
                return Err(corrupt("the JPEG frame header is too short"));
            };
            if size.is_some() {
                return Err(corrupt("the JPEG has two frame headers"));
            }
            size = Some((
                u32::from(u16::from_be_bytes([w0, w1])),
                u32::from(u16::from_be_bytes([h0, h1])),
            ));
        }
        let metadata =
            marker == COM || ((0xE0..=0xEF).contains(&marker) && !JPEG_KEPT_APP.contains(&marker));
        if marker == SOS {
            let (width, height) =
                size.ok_or_else(|| corrupt("the JPEG has no frame header before its scan"))?;
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(rest);
            return Ok(Stripped {
                bytes: out,
                width,
                height,
            });
        }
        if !metadata {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::services::logo_image::tests::chunk as png_chunk;
    use std::io::Cursor;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(30, 20, image::Rgb([200, 10, 60]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), format)
            .unwrap();
        out
    }

    /// `bytes` with `extra` inserted after the first `at` bytes.
    fn spliced(bytes: &[u8], at: usize, extra: &[u8]) -> Vec<u8> {
        [&bytes[..at], extra, &bytes[at..]].concat()
    }

    #[test]
    fn a_png_keeps_its_rendering_chunks_and_its_declared_size() {
        let png_bytes = encoded(image::ImageFormat::Png);
        let with_text = spliced(&png_bytes, 33, &png_chunk(b"tEXt", b"Comment\0hello"));

        let stripped = png(&with_text).unwrap();

        assert_eq!((stripped.width, stripped.height), (30, 20));
        assert_eq!(stripped.bytes, png_bytes);
    }

    #[test]
    fn a_png_chunk_longer_than_the_file_is_refused() {
        let png_bytes = encoded(image::ImageFormat::Png);
        let mut lying = spliced(&png_bytes, 33, &png_chunk(b"iCCP", b"x\0\0"));
        lying[33..37].copy_from_slice(&0x7FFF_FFF0u32.to_be_bytes());

        assert!(matches!(png(&lying), Err(LogoError::Corrupt(_))));
    }

    #[test]
    fn a_png_without_ihdr_first_or_with_an_unknown_critical_chunk_is_refused() {
        let png_bytes = encoded(image::ImageFormat::Png);
        let text_first = spliced(&png_bytes, 8, &png_chunk(b"tEXt", b"a\0b"));
        let unknown_critical = spliced(&png_bytes, 33, &png_chunk(b"QUUX", b""));

        for bytes in [text_first, unknown_critical] {
            assert!(matches!(png(&bytes), Err(LogoError::Corrupt(_))));
        }
    }

    #[test]
    fn a_jpeg_loses_its_app1_app2_and_comments_and_keeps_its_declared_size() {
        let jpeg_bytes = encoded(image::ImageFormat::Jpeg);
        let exif = [&[0xFF, 0xE1, 0x00, 0x0A][..], b"Exif\0\0ab"].concat();
        let icc = [&[0xFF, 0xE2, 0x00, 0x12][..], b"ICC_PROFILE\0\x01\x01ab"].concat();
        let comment = [&[0xFF, 0xFE, 0x00, 0x04][..], b"hi"].concat();
        let with_metadata = spliced(&jpeg_bytes, 2, &[exif, icc, comment].concat());

        let stripped = jpeg(&with_metadata).unwrap();

        assert_eq!((stripped.width, stripped.height), (30, 20));
        assert_eq!(stripped.bytes, jpeg_bytes);
    }

    #[test]
    fn a_jpeg_segment_longer_than_the_file_is_refused() {
        let jpeg_bytes = encoded(image::ImageFormat::Jpeg);
        let lying = [&[0xFF, 0xD8, 0xFF, 0xE2, 0xFF, 0xFF][..], b"ICC_PROFILE\0"].concat();
        let truncated = &jpeg_bytes[..jpeg_bytes.len().min(40)];

        for bytes in [&lying[..], truncated] {
            assert!(
                matches!(jpeg(bytes), Err(LogoError::Corrupt(_))),
                "{bytes:?}"
            );
        }
    }
}
