//! Image handling for uploads: decide from the bytes (never the declared type) whether an
//! upload is an image, and re-encode it. Re-encoding drops every metadata block (EXIF with GPS
//! position, XMP, comments) because only pixels are carried over.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// Largest avatar upload accepted.
pub const MAX_AVATAR_BYTES: u64 = 5 * 1024 * 1024;
/// Side of the square avatar thumbnail.
const AVATAR_SIZE: u32 = 500;
/// Content types an avatar upload may declare.
pub const AVATAR_CONTENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("not an image we accept")]
    NotAnImage,
    #[error("image is too large ({0} bytes)")]
    TooLarge(u64),
    #[error("image could not be decoded: {0}")]
    Corrupt(String),
    #[error("image could not be encoded: {0}")]
    Encode(String),
}

/// Largest service gallery image upload accepted.
pub const MAX_SERVICE_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// Longest side of a gallery image as served.
const SERVICE_IMAGE_MAX_SIDE: u32 = 1600;
/// Largest service video accepted.
pub const MAX_SERVICE_VIDEO_BYTES: u64 = 100 * 1024 * 1024;
/// Content types a service video may declare.
pub const VIDEO_CONTENT_TYPES: &[&str] = &["video/mp4", "video/quicktime"];

/// Decodes an accepted image format, judged from the bytes, within bounded allocations.
fn decode(bytes: &[u8], max_bytes: u64) -> Result<image::DynamicImage, MediaError> {
    if bytes.len() as u64 > max_bytes {
        return Err(MediaError::TooLarge(bytes.len() as u64));
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::NotAnImage)?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif
    ) {
        return Err(MediaError::NotAnImage);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A few hundred bytes can claim to be a 100 000² image: bound what decoding may allocate.
    let mut limits = Limits::default();
    limits.max_image_width = Some(8_000);
    limits.max_image_height = Some(8_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| MediaError::Corrupt(e.to_string()))
}

fn jpeg(img: &image::RgbImage) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(img)
        .map_err(|e| MediaError::Encode(e.to_string()))?;
    Ok(out)
}

/// Turns uploaded bytes into a `AVATAR_SIZE`² JPEG (centre-cropped, quality 85).
pub fn avatar_thumbnail(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
    let img = decode(bytes, MAX_AVATAR_BYTES)?;
    let thumb = img
        .resize_to_fill(
            AVATAR_SIZE,
            AVATAR_SIZE,
            image::imageops::FilterType::Lanczos3,
        )
        .to_rgb8();
    jpeg(&thumb)
}

/// Turns an uploaded gallery image into a JPEG whose longest side is at most
/// [`SERVICE_IMAGE_MAX_SIDE`] (never enlarged; aspect kept; metadata dropped).
pub fn service_image(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
    let img = decode(bytes, MAX_SERVICE_IMAGE_BYTES)?;
    let img = if img.width() > SERVICE_IMAGE_MAX_SIDE || img.height() > SERVICE_IMAGE_MAX_SIDE {
        img.resize(
            SERVICE_IMAGE_MAX_SIDE,
            SERVICE_IMAGE_MAX_SIDE,
            image::imageops::FilterType::Lanczos3,
        )
    } else {
        img
    };
    jpeg(&img.to_rgb8())
}

/// Longest side of a private image's preview.
const PREVIEW_SIDE: u32 = 320;
/// Largest private image a preview is made of.
pub const MAX_PREVIEW_SOURCE_BYTES: u64 = 20 * 1024 * 1024;

/// A small JPEG of an image (longest side [`PREVIEW_SIDE`], never enlarged, metadata
/// dropped), for showing a delivered picture before it is downloaded.
pub fn preview(bytes: &[u8]) -> Result<Vec<u8>, MediaError> {
    let img = decode(bytes, MAX_PREVIEW_SOURCE_BYTES)?;
    let img = if img.width() > PREVIEW_SIDE || img.height() > PREVIEW_SIDE {
        img.resize(
            PREVIEW_SIDE,
            PREVIEW_SIDE,
            image::imageops::FilterType::Triangle,
        )
    } else {
        img
    };
    jpeg(&img.to_rgb8())
}

/// Whether the first bytes of a file are those of an MP4/QuickTime container (an `ftyp` box
/// at offset 4).
pub fn looks_like_mp4(head: &[u8]) -> bool {
    head.len() >= 12 && &head[4..8] == b"ftyp"
}

/// Whether the first bytes of a file are those of an image format we show (JPEG, PNG, WebP,
/// GIF).
pub fn looks_like_image(head: &[u8]) -> bool {
    matches!(
        image::guess_format(head),
        Ok(image::ImageFormat::Jpeg
            | image::ImageFormat::Png
            | image::ImageFormat::WebP
            | image::ImageFormat::Gif)
    )
}

/// Longest side of an image accepted as a private file.
pub const MAX_IMAGE_SIDE: u32 = 20_000;

/// Why an image file is refused for its dimensions, read from its header (`None`: not an
/// image, its header is beyond `head`, or it is within [`MAX_IMAGE_SIDE`]).
pub fn too_many_pixels(content_type: &str, head: &[u8]) -> Option<String> {
    if !content_type.starts_with("image/") {
        return None;
    }
    let reader = ImageReader::new(Cursor::new(head))
        .with_guessed_format()
        .ok()?;
    let (w, h) = reader.into_dimensions().ok()?;
    (w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE || w == 0 || h == 0)
        .then(|| format!("image of {w}×{h} pixels (at most {MAX_IMAGE_SIDE} a side)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn previews_are_small_jpegs() {
        let p = image::load_from_memory(&preview(&png(1280, 640)).unwrap()).unwrap();
        assert_eq!((p.width(), p.height()), (320, 160));
        assert_eq!(preview(b"%PDF-1.7"), Err(MediaError::NotAnImage));
    }

    #[test]
    fn huge_images_are_refused_from_their_header() {
        assert_eq!(too_many_pixels("image/png", &png(40, 30)), None);
        // Only the header is read.
        let wide = png(30_000, 2);
        assert!(too_many_pixels("image/png", &wide[..64]).is_some());
        assert_eq!(too_many_pixels("application/pdf", b"%PDF"), None);
    }

    #[test]
    fn gallery_images_shrink_to_fit_and_keep_their_aspect() {
        let big = image::load_from_memory(&service_image(&png(3200, 1600)).unwrap()).unwrap();
        assert_eq!((big.width(), big.height()), (1600, 800));
        let small = image::load_from_memory(&service_image(&png(400, 300)).unwrap()).unwrap();
        assert_eq!((small.width(), small.height()), (400, 300));
        assert_eq!(service_image(b"not an image"), Err(MediaError::NotAnImage));
        assert!(looks_like_mp4(b"\0\0\0\x18ftypmp42rest"));
        assert!(!looks_like_mp4(b"GIF89a......"));
    }

    #[test]
    fn any_accepted_image_becomes_a_square_jpeg() {
        let jpeg = avatar_thumbnail(&png(1200, 800)).unwrap();
        assert_eq!(image::guess_format(&jpeg).unwrap(), ImageFormat::Jpeg);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (500, 500));
    }

    #[test]
    fn metadata_is_dropped() {
        // A JPEG with an EXIF block carrying a made-up GPS note right after the SOI marker.
        let mut plain = Vec::new();
        image::RgbImage::from_pixel(64, 64, image::Rgb([200, 10, 10]))
            .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
            .unwrap();
        let payload = b"Exif\0\0GPS 31.2304N 121.4737E";
        let len = (payload.len() + 2) as u16;
        let mut with_exif = vec![0xFF, 0xD8, 0xFF, 0xE1];
        with_exif.extend_from_slice(&len.to_be_bytes());
        with_exif.extend_from_slice(payload);
        with_exif.extend_from_slice(&plain[2..]);
        assert!(with_exif.windows(4).any(|w| w == b"Exif"));
        let out = avatar_thumbnail(&with_exif).unwrap();
        assert!(!out.windows(4).any(|w| w == b"Exif"));
        assert!(!out.windows(3).any(|w| w == b"GPS"));
    }

    #[test]
    fn text_and_truncated_images_are_refused() {
        assert_eq!(
            avatar_thumbnail(b"#!/bin/sh\nrm -rf /\n"),
            Err(MediaError::NotAnImage)
        );
        let mut cut = png(100, 100);
        cut.truncate(60);
        assert!(matches!(
            avatar_thumbnail(&cut),
            Err(MediaError::Corrupt(_))
        ));
    }
}
