//! What the uploaded bytes really are. Product media and avatars are shown on public
//! pages, so beyond Polar floe checks that the bytes are an image of the declared type
//! before a file counts as uploaded.

/// Bytes read from the start of an object for the check.
pub const HEAD_LEN: usize = 4096;

/// Whether `head` (the first bytes of a file) is an image of type `mime_type`.
pub fn is_image_of_type(mime_type: &str, head: &[u8]) -> bool {
    match mime_type {
        "image/jpeg" => infer::image::is_jpeg(head),
        "image/png" => infer::image::is_png(head),
        "image/gif" => infer::image::is_gif(head),
        "image/webp" => infer::image::is_webp(head),
        "image/svg+xml" => looks_like_svg(head),
        _ => false,
    }
}

/// An SVG is XML whose root element is `<svg`: after an optional byte-order mark, XML
/// declaration, comments and doctype, the first element must be `svg`.
fn looks_like_svg(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            match after.split_once("?>") {
                Some((_, tail)) => rest = tail.trim_start(),
                None => return false,
            }
        } else if let Some(after) = rest.strip_prefix("<!--") {
            match after.split_once("-->") {
                Some((_, tail)) => rest = tail.trim_start(),
                None => return false,
            }
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case("<!doctype") {
            match rest.split_once('>') {
                Some((_, tail)) => rest = tail.trim_start(),
                None => return false,
            }
        } else {
            return rest.strip_prefix("<svg").is_some_and(|tail| {
                tail.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/')
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];

    #[test]
    fn raster_types_are_told_apart() {
        assert!(is_image_of_type("image/png", PNG));
        assert!(!is_image_of_type("image/jpeg", PNG));
        assert!(is_image_of_type("image/jpeg", JPEG));
        assert!(is_image_of_type("image/gif", b"GIF89a\x01\0\x01\0"));
        assert!(is_image_of_type("image/webp", b"RIFF\x24\0\0\0WEBPVP8 "));
        assert!(!is_image_of_type("image/png", b"hello world"));
        assert!(!is_image_of_type("image/png", b""));
    }

    #[test]
    fn svg_needs_an_svg_root() {
        assert!(is_image_of_type(
            "image/svg+xml",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
        ));
        assert!(is_image_of_type(
            "image/svg+xml",
            b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- x -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg>"
        ));
        assert!(!is_image_of_type(
            "image/svg+xml",
            b"<html><svg></svg></html>"
        ));
        assert!(!is_image_of_type("image/svg+xml", b"<svgfoo>"));
        assert!(!is_image_of_type("image/svg+xml", PNG));
    }
}
