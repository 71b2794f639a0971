//! A small JSON scanner that records where every value sits in the text, and the whitespace
//! around object members and array items, so an unchanged part can be copied byte for byte.
//!
//! The text must already parse (serde_json checked it); the scanner still returns None rather
//! than panicking on anything unexpected. Nesting past [`MAX_DEPTH`] returns None too: the caller
//! then writes plain pretty JSON, and no input can exhaust the stack.

use std::ops::Range;

/// Deepest nesting scanned (serde_json refuses deeper input anyway).
pub(super) const MAX_DEPTH: usize = 128;

/// One value: its byte range in the text and, for containers, their parts.
#[derive(Debug)]
pub(super) struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    Scalar,
    Object(Container<Member>),
    Array(Container<Item>),
}

/// Members or items of a container, and the whitespace before its closing bracket.
#[derive(Debug)]
pub(super) struct Container<T> {
    pub entries: Vec<T>,
    /// From the end of the last entry (or the opening bracket) to the closing bracket.
    pub close: Range<usize>,
}

/// An object member.
#[derive(Debug)]
pub(super) struct Member {
    /// Decoded key.
    pub key: String,
    /// Whitespace from the `{` or `,` before it to the key.
    pub lead: Range<usize>,
    /// The key as spelled, quotes included.
    pub key_span: Range<usize>,
    /// From the key's closing quote to the value: `": "`, `":"`, ….
    pub colon: Range<usize>,
    pub value: Node,
}

/// An array item.
#[derive(Debug)]
pub(super) struct Item {
    /// Whitespace from the `[` or `,` before it to the item.
    pub lead: Range<usize>,
    pub value: Node,
}

impl<T> Container<T> {
    fn new(close_start: usize) -> Self {
        Container { entries: Vec::new(), close: close_start..close_start }
    }
}

/// The value tree of `text` from byte `start` (after a BOM), and the end of the root value.
pub(super) fn scan(text: &str, start: usize) -> Option<Node> {
    let mut scanner = Scanner { s: text.as_bytes(), text, pos: start };
    scanner.ws();
    let root = scanner.value(0)?;
    scanner.ws();
    (scanner.pos == scanner.s.len()).then_some(root)
}

struct Scanner<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' => Kind::Object(self.object(depth + 1)?),
            b'[' => Kind::Array(self.array(depth + 1)?),
            b'"' => {
                self.string()?;
                Kind::Scalar
            }
            _ => {
                while self.peek().is_some_and(|b| !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return None;
                }
                Kind::Scalar
            }
        };
        Some(Node { span: start..self.pos, kind })
    }

    /// A string token; the position ends after its closing quote.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.pos;
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Some(start..self.pos);
                }
                _ => self.pos += 1,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<Container<Member>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        let mut container = Container::new(self.pos);
        let mut lead_start = self.pos;
        self.ws();
        if self.eat(b'}').is_some() {
            container.close = lead_start..self.pos - 1;
            return Some(container);
        }
        loop {
            let lead = lead_start..self.pos;
            let key_span = self.string()?;
            let key = decode_key(&self.text[key_span.clone()])?;
            let colon_start = self.pos;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let colon = colon_start..self.pos;
            let value = self.value(depth)?;
            let value_end = value.span.end;
            container.entries.push(Member { key, lead, key_span, colon, value });
            self.ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    lead_start = self.pos;
                    self.ws();
                }
                b'}' => {
                    container.close = value_end..self.pos;
                    self.pos += 1;
                    return Some(container);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Container<Item>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        let mut container = Container::new(self.pos);
        let mut lead_start = self.pos;
        self.ws();
        if self.eat(b']').is_some() {
            container.close = lead_start..self.pos - 1;
            return Some(container);
        }
        loop {
            let lead = lead_start..self.pos;
            let value = self.value(depth)?;
            let value_end = value.span.end;
            container.entries.push(Item { lead, value });
            self.ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    lead_start = self.pos;
                    self.ws();
                }
                b']' => {
                    container.close = value_end..self.pos;
                    self.pos += 1;
                    return Some(container);
                }
                _ => return None,
            }
        }
    }
}

/// The key a quoted JSON string spells (escapes decoded).
fn decode_key(quoted: &str) -> Option<String> {
    match quoted.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(inner.to_owned()),
        _ => serde_json::from_str(quoted).ok(),
    }
}
