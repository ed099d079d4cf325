//! Bytes of an imported file as text: which encoding it is in, and the decoders the
//! importers need (quoted-printable for vCard 2.1).
//!
//! Exports come in UTF-8 with or without a byte order mark (Google, HubSpot, Salesforce,
//! most tools), UTF-16 with a mark (Outlook's "Unicode" CSV, some Excel saves) and
//! Windows-1252 (classic Outlook and Excel "CSV" on Western Windows). Reading a
//! Windows-1252 file as UTF-8 turns every accent into `�` ("Bj�rn"); the rep sees which
//! encoding was used and can choose another. Windows-1252 is decoded here rather than
//! with `encoding_rs`, whose tables for every encoding would add to the engine's wasm for
//! the one single-byte table the importers need (Latin-1 is its subset).

/// How a file's bytes were (or should be) read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    /// UTF-8, with or without a byte order mark.
    Utf8,
    /// UTF-16, little-endian (with a byte order mark).
    Utf16Le,
    /// UTF-16, big-endian (with a byte order mark).
    Utf16Be,
    /// Windows-1252 (Western European Windows; ISO 8859-1 is its subset).
    Windows1252,
}

impl TextEncoding {
    /// Every encoding, for a choice on screen.
    pub const ALL: [TextEncoding; 4] = [
        TextEncoding::Utf8,
        TextEncoding::Utf16Le,
        TextEncoding::Utf16Be,
        TextEncoding::Windows1252,
    ];

    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf16Le => "UTF-16 (little-endian)",
            TextEncoding::Utf16Be => "UTF-16 (big-endian)",
            TextEncoding::Windows1252 => "Windows-1252 (Western European)",
        }
    }

    /// The encoding a vCard `CHARSET` parameter or a MIME charset names, if known.
    pub fn from_charset(name: &str) -> Option<TextEncoding> {
        match name.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "utf-16le" => Some(TextEncoding::Utf16Le),
            "utf-16be" | "utf-16" => Some(TextEncoding::Utf16Be),
            "windows-1252" | "cp1252" | "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1"
            | "us-ascii" | "ascii" => Some(TextEncoding::Windows1252),
            _ => None,
        }
    }
}

/// The encoding `bytes` are most likely in: a byte order mark decides; else UTF-8 if the
/// bytes are valid UTF-8; else Windows-1252 (every byte sequence is valid in it).
pub fn detect(bytes: &[u8]) -> TextEncoding {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        TextEncoding::Utf8
    } else if bytes.starts_with(&[0xFF, 0xFE]) {
        TextEncoding::Utf16Le
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        TextEncoding::Utf16Be
    } else if std::str::from_utf8(bytes).is_ok() {
        TextEncoding::Utf8
    } else {
        TextEncoding::Windows1252
    }
}

/// `bytes` as text in `encoding`, without its byte order mark. Bytes that are not valid in
/// the encoding become `U+FFFD`; returns how many did, so a wrong choice can be shown.
pub fn decode(bytes: &[u8], encoding: TextEncoding) -> (String, usize) {
    match encoding {
        TextEncoding::Utf8 => {
            let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            let text = String::from_utf8_lossy(bytes);
            let replaced = text.matches('\u{FFFD}').count()
                - std::str::from_utf8(bytes).map_or(0, |s| s.matches('\u{FFFD}').count());
            (text.into_owned(), replaced)
        }
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
            let little = encoding == TextEncoding::Utf16Le;
            let mark: &[u8] = if little { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] };
            let bytes = bytes.strip_prefix(mark).unwrap_or(bytes);
            let units = bytes.chunks(2).map(|pair| match pair {
                [a, b] if little => u16::from_le_bytes([*a, *b]),
                [a, b] => u16::from_be_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            let mut replaced = usize::from(bytes.len() % 2 == 1);
            let text = char::decode_utf16(units)
                .map(|unit| {
                    unit.unwrap_or_else(|_| {
                        replaced += 1;
                        '\u{FFFD}'
                    })
                })
                .collect();
            (text, replaced)
        }
        TextEncoding::Windows1252 => (bytes.iter().map(|&b| windows_1252(b)).collect(), 0),
    }
}

/// [`detect`], then [`decode`].
pub fn decode_detected(bytes: &[u8]) -> (String, TextEncoding) {
    let encoding = detect(bytes);
    (decode(bytes, encoding).0, encoding)
}

/// One Windows-1252 byte as a character (0x80–0x9F are the typographic characters Windows
/// puts there; the five bytes it leaves undefined map to the C1 controls, like browsers).
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Decodes a quoted-printable value (RFC 2045 as vCard 2.1 uses it): `=XX` is a byte, a
/// `=` at the end of a line is a soft line break (already joined by the caller); a `=` not
/// followed by two hex digits is kept as it is. The bytes are then read in `encoding`.
pub fn decode_quoted_printable(value: &str, encoding: TextEncoding) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            });
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    decode(&out, encoding).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_is_found_from_the_mark_or_the_bytes() {
        let text = "Name,Company\nBjörn Ærø,Café Noël – „Süd“\n";
        let utf8_bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        let utf16le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let utf16be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        // The same text as Excel writes it on a Western Windows: ö = F6, Æ = C6, ø = F8,
        // é = E9, ë = EB, – = 96, „ = 84, ü = FC, “ = 93.
        let cp1252: Vec<u8> = text
            .chars()
            .map(|c| match c {
                '–' => 0x96,
                '„' => 0x84,
                '“' => 0x93,
                c => u8::try_from(u32::from(c)).unwrap(),
            })
            .collect();
        for (bytes, encoding) in [
            (text.as_bytes().to_vec(), TextEncoding::Utf8),
            (utf8_bom, TextEncoding::Utf8),
            (utf16le, TextEncoding::Utf16Le),
            (utf16be, TextEncoding::Utf16Be),
            (cp1252, TextEncoding::Windows1252),
        ] {
            assert_eq!(detect(&bytes), encoding);
            assert_eq!(decode_detected(&bytes), (text.to_string(), encoding));
        }
    }

    #[test]
    fn a_wrong_choice_shows_as_replaced_bytes() {
        let cp1252 = b"Bj\xf6rn";
        assert_eq!(
            decode(cp1252, TextEncoding::Utf8),
            ("Bj\u{FFFD}rn".into(), 1)
        );
        assert_eq!(decode(b"odd", TextEncoding::Utf16Le).1, 1);
        // A real U+FFFD in the file is not counted as a replacement.
        assert_eq!(decode("a\u{FFFD}".as_bytes(), TextEncoding::Utf8).1, 0);
    }

    #[test]
    fn quoted_printable_values_decode_in_their_charset() {
        assert_eq!(
            decode_quoted_printable("=C5=81ukasz Wi=C5=9Bniewski", TextEncoding::Utf8),
            "Łukasz Wiśniewski"
        );
        assert_eq!(
            decode_quoted_printable("M=FCller;J=F6rg", TextEncoding::Windows1252),
            "Müller;Jörg"
        );
        // Not an escape: kept.
        assert_eq!(
            decode_quoted_printable("a=b =G1 =", TextEncoding::Utf8),
            "a=b =G1 ="
        );
        assert_eq!(
            TextEncoding::from_charset("ISO-8859-1"),
            Some(TextEncoding::Windows1252)
        );
        assert_eq!(TextEncoding::from_charset("Shift_JIS"), None);
    }
}
