//! Text encodings of uploaded files: UTF-8 (with or without BOM), UTF-16 with a BOM, and GBK —
//! what Excel in a Chinese locale saves "CSV" as. One implementation for every importer.

use super::error::{UploadError, UploadErrorKind};
use std::borrow::Cow;

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf16,
    Gbk,
}

/// Decodes an uploaded text file: a byte-order mark decides when present (and is dropped);
/// otherwise UTF-8 when the bytes are valid UTF-8, else GBK. Bytes that are not valid in GBK
/// either are refused (`upload_bad_encoding`), naming the line of the first one.
///
/// A short GBK text can also be valid UTF-8 (`指` is `D6 B8`, which UTF-8 reads as the Hebrew
/// point U+05B8). When the UTF-8 reading holds only two-byte letters a Chinese office never
/// types (see [`utf8_reading_is_implausible`]) and the GBK reading is clean Chinese, GBK wins.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, TextEncoding), UploadError> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom..];
        let kind = if enc == encoding_rs::UTF_8 {
            TextEncoding::Utf8
        } else {
            TextEncoding::Utf16
        };
        let (text, had_errors) = enc.decode_without_bom_handling(body);
        if had_errors {
            return Err(bad_bytes(body, enc, kind_name(kind)));
        }
        return Ok((text, kind));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if !utf8_reading_is_implausible(s) => Ok((Cow::Borrowed(s), TextEncoding::Utf8)),
        Ok(s) => match encoding_rs::GBK.decode_without_bom_handling(bytes) {
            (gbk, false) if gbk.chars().all(|c| c.is_ascii() || is_chinese(c)) => {
                Ok((gbk, TextEncoding::Gbk))
            }
            _ => Ok((Cow::Borrowed(s), TextEncoding::Utf8)),
        },
        Err(_) => {
            let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(bytes);
            if had_errors {
                return Err(bad_bytes(bytes, encoding_rs::GBK, "UTF-8 nor GBK"));
            }
            Ok((text, TextEncoding::Gbk))
        }
    }
}

/// Reads a text file (a command-line import) within `limits.max_bytes` and decodes it as
/// [`decode`] does.
pub fn read_file(path: &std::path::Path, limits: &super::Limits) -> Result<String, UploadError> {
    let bytes = super::read_file(path, limits)?;
    Ok(decode(&bytes)?.0.into_owned())
}

/// Whether valid UTF-8 reads like GBK bytes rather than text: it has non-ASCII characters, none
/// of them a three- or four-byte sequence (all Chinese is), and at least one outside Latin-1 and
/// Greek (°, ², ×, µ, é: what units and names use).
fn utf8_reading_is_implausible(s: &str) -> bool {
    let mut odd = false;
    for c in s.chars().filter(|c| !c.is_ascii()) {
        match c as u32 {
            0x800.. => return false,
            0xA0..=0xFF | 0x370..=0x3FF => {}
            _ => odd = true,
        }
    }
    odd
}

/// CJK ideographs and punctuation, full-width forms: what a Chinese GBK file is made of.
fn is_chinese(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xFF00..=0xFFEF)
}

fn kind_name(k: TextEncoding) -> &'static str {
    match k {
        TextEncoding::Utf8 => "UTF-8",
        TextEncoding::Utf16 => "UTF-16",
        TextEncoding::Gbk => "GBK",
    }
}

/// The refusal for undecodable bytes, naming the line of the first bad byte.
fn bad_bytes(bytes: &[u8], enc: &'static encoding_rs::Encoding, name: &str) -> UploadError {
    let mut dec = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(bytes.len().min(1 << 16) * 3 + 16);
    // Decode in slices so the scan stays small; stop at the first malformed sequence.
    let mut line = 1usize;
    let mut rest = bytes;
    while !rest.is_empty() {
        let take = rest.len().min(1 << 16);
        out.clear();
        let (res, read) =
            dec.decode_to_string_without_replacement(&rest[..take], &mut out, take == rest.len());
        line += out.matches('\n').count();
        if let encoding_rs::DecoderResult::Malformed(..) = res {
            break;
        }
        if read == 0 {
            break;
        }
        rest = &rest[read..];
    }
    let what = if name.contains("nor") {
        format!("the file is neither {name}")
    } else {
        format!("the file is not valid {name}")
    };
    UploadError::new(
        UploadErrorKind::Encoding,
        format!("{what} (save it as CSV UTF-8)"),
    )
    .at_row(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_and_gbk() {
        assert_eq!(
            decode(b"a,b").unwrap(),
            (Cow::Borrowed("a,b"), TextEncoding::Utf8)
        );
        let bom = [&[0xEF, 0xBB, 0xBF][..], "年份".as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap().0, "年份");
        let (gbk, _, _) = encoding_rs::GBK.encode("指标代码,年份\n");
        let (t, e) = decode(&gbk).unwrap();
        assert_eq!((t.as_ref(), e), ("指标代码,年份\n", TextEncoding::Gbk));
    }

    /// Regression (CI, proptest seed 9ab966f2): GBK `指` is the valid UTF-8 `U+05B8`.
    #[test]
    fn gbk_that_is_also_valid_utf8_is_read_as_gbk() {
        for text in ["指", "指\n", "a,指\n指,b\n"] {
            let (gbk, _, _) = encoding_rs::GBK.encode(text);
            assert!(std::str::from_utf8(&gbk).is_ok());
            assert_eq!(
                decode(&gbk).unwrap(),
                (Cow::Owned(text.into()), TextEncoding::Gbk)
            );
        }
        // Units and European names stay UTF-8.
        for text in ["μg/m³", "25 °C", "José", "Ω·m"] {
            assert_eq!(
                decode(text.as_bytes()).unwrap().1,
                TextEncoding::Utf8,
                "{text}"
            );
        }
    }

    #[test]
    fn utf16_with_bom() {
        let mut b = vec![0xFF, 0xFE];
        for u in "a,年".encode_utf16() {
            b.extend(u.to_le_bytes());
        }
        assert_eq!(
            decode(&b).unwrap(),
            (Cow::Owned("a,年".into()), TextEncoding::Utf16)
        );
    }

    #[test]
    fn neither_utf8_nor_gbk_names_the_line() {
        // 0x80 alone and 0xFF are not GBK.
        let e = decode(b"a,b\nc,\xFF\xFF\n").unwrap_err();
        assert_eq!(e.kind, UploadErrorKind::Encoding);
        assert_eq!(e.row, Some(2));
    }
}
