//! `Authentication-Results` read as RFC 8601 §2.2 writes it:
//!
//! ```text
//! authres-payload = [CFWS] authserv-id [ CFWS authres-version ] ( no-result / 1*resinfo ) [CFWS]
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [ [CFWS] "/" [CFWS] version ] [CFWS] "=" [CFWS] result
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! ```
//!
//! Comments `( … )` nest and may escape any character with `\`; quoted strings may too. Both
//! are what the receiving server copied from the sender (a MAIL FROM local part, a selector,
//! its own remarks), so neither can ever become a `;`, a method or a result: a comment is
//! skipped whole and a quoted string is a value. One pass over the bytes, nesting counted,
//! never recursed; any header that does not follow the grammar is refused whole rather than
//! guessed at, since a guess is where a forgery would hide.

mod trust;

pub use trust::topmost_above_received;

/// One parsed `Authentication-Results` header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The server that wrote it, as written (quotes removed).
    pub authserv_id: String,
    /// Empty for `authserv-id; none` (no authentication was performed).
    pub results: Vec<MethodResult>,
}

/// `dkim=pass header.d=example.com`: a method, its result and what it was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodResult {
    /// Lower-case, as registered: `dkim`, `spf`, `dmarc`, ….
    pub method: String,
    /// The method's version; 1 when omitted.
    pub version: u32,
    /// Lower-case result keyword: `pass`, `fail`, `none`, `neutral`, ….
    pub result: String,
    pub reason: Option<String>,
    pub properties: Vec<Property>,
}

/// `header.d=example.com`: `ptype` and `name` lower-case, `value` with quotes and escapes
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub ptype: String,
    pub name: String,
    pub value: String,
}

impl MethodResult {
    /// The values of `ptype.name` properties (`header.d`), in order.
    pub fn values<'a>(&'a self, ptype: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.properties.iter().filter(move |p| p.ptype == ptype && p.name == name).map(|p| p.value.as_str())
    }
}

/// Where the header stops following the grammar, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} at byte {at}")]
pub struct ParseError {
    /// Byte offset in the header's value.
    pub at: usize,
    pub expected: &'static str,
}

/// Parses the value of one `Authentication-Results` header field (after the colon, unfolded
/// or not). Linear in its length; never panics.
pub fn parse(value: &str) -> Result<AuthResults, ParseError> {
    let mut c = Cursor { bytes: value.as_bytes(), pos: 0 };
    c.cfws()?;
    let authserv_id = c.value("an authserv-id")?;
    if c.cfws()? && c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let at = c.pos;
        if c.number()? != 1 {
            // §2.2: version 1 is this specification; a later one is not ours to read.
            return Err(ParseError { at, expected: "version 1" });
        }
    }
    let mut results = Vec::new();
    let mut none = false;
    loop {
        c.cfws()?;
        if c.at_end() {
            break;
        }
        c.expect(b';', "\";\" before each result")?;
        c.cfws()?;
        // An empty resinfo: servers write a trailing ";" now and then.
        if c.at_end() || c.peek() == Some(b';') {
            continue;
        }
        if none {
            return Err(c.err("nothing after \"none\""));
        }
        let method = c.keyword("a method")?;
        c.cfws()?;
        if method == "none" && results.is_empty() && (c.at_end() || c.peek() == Some(b';')) {
            none = true;
            continue;
        }
        results.push(c.resinfo(method)?);
    }
    if results.is_empty() && !none {
        return Err(c.err("\"; method=result\" or \"; none\""));
    }
    Ok(AuthResults { authserv_id, results })
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn err(&self, expected: &'static str) -> ParseError {
        ParseError { at: self.pos, expected }
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(expected))
        }
    }

    /// The rest of a resinfo after its method (and the CFWS after that).
    fn resinfo(&mut self, method: String) -> Result<MethodResult, ParseError> {
        let mut version = 1;
        if self.peek() == Some(b'/') {
            self.pos += 1;
            self.cfws()?;
            version = self.number()?;
            self.cfws()?;
        }
        self.expect(b'=', "\"=\" and a result after the method")?;
        self.cfws()?;
        let result = self.keyword("a result keyword")?;
        let mut reason = None;
        let mut properties = Vec::new();
        loop {
            let spaced = self.cfws()?;
            if self.at_end() || self.peek() == Some(b';') {
                break;
            }
            if !spaced {
                return Err(self.err("a space or comment before the next property"));
            }
            let ptype = self.keyword("ptype.property=value")?;
            self.cfws()?;
            if ptype == "reason" && reason.is_none() && properties.is_empty() && self.peek() == Some(b'=') {
                self.pos += 1;
                self.cfws()?;
                reason = Some(self.value("a reason")?);
                continue;
            }
            self.expect(b'.', "\".\" between ptype and property")?;
            self.cfws()?;
            let name = self.keyword("a property name")?;
            self.cfws()?;
            self.expect(b'=', "\"=\" after the property name")?;
            self.cfws()?;
            let value = self.value("a property value")?;
            properties.push(Property { ptype, name, value });
        }
        Ok(MethodResult { method, version, result, reason, properties })
    }

    /// Folding white space and comments; whether there were any.
    fn cfws(&mut self) -> Result<bool, ParseError> {
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'(') => self.comment()?,
                _ => return Ok(self.pos > start),
            }
        }
    }

    /// A comment, nested to any depth: counted, not recursed, so `((((…` costs one pass.
    fn comment(&mut self) -> Result<(), ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut depth = 1usize;
        while depth > 0 {
            let Some(byte) = self.peek() else {
                return Err(ParseError { at: open, expected: "\")\" closing this comment" });
            };
            self.pos += 1;
            match byte {
                // A quoted-pair: the next byte is text, even `(` or `)`.
                b'\\' => self.pos = (self.pos + 1).min(self.bytes.len()),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// `ldh-str`, lower-cased.
    fn keyword(&mut self, expected: &'static str) -> Result<String, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err(expected));
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.pos]).to_ascii_lowercase())
    }

    fn number(&mut self) -> Result<u32, ParseError> {
        let start = self.pos;
        let mut n: u32 = 0;
        while let Some(digit) = self.peek().filter(u8::is_ascii_digit) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u32::from(digit - b'0')))
                .ok_or(ParseError { at: start, expected: "a version number below 2^32" })?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err("a version number"));
        }
        Ok(n)
    }

    /// A value: a token, a quoted string, or the two run together as in a pvalue's
    /// `"local part"@domain`. Quotes and escapes are removed; what was inside a quoted
    /// string is text, whatever it looks like. Tokens are read a little wider than RFC 2045
    /// has them (`/`, `=`, `@` allowed), as servers write `header.b=abc/d+=` unquoted.
    fn value(&mut self, expected: &'static str) -> Result<String, ParseError> {
        let start = self.pos;
        let mut out = Vec::new();
        while let Some(byte) = self.peek() {
            match byte {
                b'"' => self.quoted(&mut out)?,
                b if is_token_byte(b) => {
                    out.push(b);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if self.pos == start {
            return Err(self.err(expected));
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A quoted string at `"`, its content appended to `out`.
    fn quoted(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let open = self.pos;
        self.pos += 1;
        loop {
            let Some(byte) = self.peek() else {
                return Err(ParseError { at: open, expected: "a '\"' closing this quoted string" });
            };
            self.pos += 1;
            match byte {
                b'"' => return Ok(()),
                b'\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(ParseError { at: open, expected: "a '\"' closing this quoted string" });
                    };
                    out.push(escaped);
                    self.pos += 1;
                }
                b => out.push(b),
            }
        }
    }
}

/// Anything printable but white space and the bytes the grammar gives a meaning outside a
/// value: `;` ends a resinfo, `(` opens a comment, `"` a quoted string, `\` escapes.
/// Bytes above 0x7f are UTF-8 (RFC 8601 allows it in values) and kept.
fn is_token_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f && !matches!(b, b';' | b'(' | b')' | b'"' | b'\\')
}

#[cfg(test)]
mod tests;
