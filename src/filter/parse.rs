//! The ftrace filter grammar (Documentation/trace/events.rst, "Event
//! filtering"): predicates `field OP value` joined by `&&`, `||`, `!` and
//! parentheses. OP is one of `== != < <= > >= &` on numbers, `== != ~` on
//! strings (`~` a glob). Errors carry the 1-based column they point at.
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `&`: some bit of the value is set in the field.
    Bit,
    /// `~`: the string matches a glob.
    Glob,
}

impl Cmp {
    pub fn text(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Bit => "&",
            Cmp::Glob => "~",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i128),
    Str(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pred {
    pub field: String,
    /// Columns (1-based) of the field and of the value, for errors.
    pub field_col: usize,
    pub cmp: Cmp,
    pub value: Value,
    pub value_col: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Pred(Pred),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Every predicate, left to right.
    pub fn preds(&self) -> Vec<&Pred> {
        let mut out = Vec::new();
        self.walk(&mut |p| out.push(p));
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Pred)) {
        match self {
            Expr::Pred(p) => f(p),
            Expr::Not(e) => e.walk(f),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
        }
    }
}

/// A filter that cannot be used, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub filter: String,
    pub message: String,
    /// 1-based; 0 when the error is about the whole filter.
    pub column: usize,
}

impl FilterError {
    pub fn new(filter: &str, message: impl Into<String>, column: usize) -> Self {
        FilterError {
            filter: filter.to_owned(),
            message: message.into(),
            column,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter '{}': {}", self.filter, self.message)?;
        if self.column > 0 {
            write!(f, " at column {}", self.column)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Int(i128),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    End,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

const OPS: [&str; 11] = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "&", "~", "!"];

impl<'a> Lexer<'a> {
    fn err(&self, msg: impl Into<String>, at: usize) -> FilterError {
        FilterError::new(self.src, msg, at + 1)
    }

    /// The next token and its 0-based start.
    fn next(&mut self) -> Result<(Tok, usize), FilterError> {
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.bytes.get(start) else {
            return Ok((Tok::End, start));
        };
        let rest = &self.src[start..];
        if c == b'(' || c == b')' {
            self.pos += 1;
            return Ok((if c == b'(' { Tok::LParen } else { Tok::RParen }, start));
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let len = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            self.pos += len;
            return Ok((Tok::Ident(rest[..len].to_owned()), start));
        }
        if c.is_ascii_digit()
            || (c == b'-' && rest[1..].starts_with(|ch: char| ch.is_ascii_digit()))
        {
            let len = 1 + rest[1..]
                .find(|ch: char| !ch.is_ascii_alphanumeric())
                .unwrap_or(rest.len() - 1);
            self.pos += len;
            return parse_int(&rest[..len])
                .map(|v| (Tok::Int(v), start))
                .ok_or_else(|| self.err(format!("bad number '{}'", &rest[..len]), start));
        }
        if c == b'"' || c == b'\'' {
            let Some(len) = rest[1..].find(c as char) else {
                return Err(self.err("unterminated string", start));
            };
            self.pos += len + 2;
            return Ok((Tok::Str(rest[1..1 + len].to_owned()), start));
        }
        if let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) {
            self.pos += op.len();
            return Ok((Tok::Op(op), start));
        }
        let ch = rest.chars().next().unwrap_or('?');
        Err(self.err(format!("unexpected '{ch}'"), start))
    }
}

/// Decimal, 0x hex, or 0-prefixed octal, optionally negative.
fn parse_int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let value = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<u64>().ok()?
    };
    Some(if neg { -(value as i128) } else { value as i128 })
}

struct Parser<'a> {
    lex: Lexer<'a>,
    tok: Tok,
    at: usize,
}

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Result<(), FilterError> {
        (self.tok, self.at) = self.lex.next()?;
        Ok(())
    }

    fn err(&self, msg: impl Into<String>) -> FilterError {
        self.lex.err(msg, self.at)
    }

    fn found(&self) -> String {
        match &self.tok {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Int(v) => format!("'{v}'"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Op(o) => format!("'{o}'"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::End => "the end".into(),
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.tok == Tok::Op("||") {
            self.bump()?;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.tok == Tok::Op("&&") {
            self.bump()?;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        match self.tok.clone() {
            Tok::Op("!") => {
                self.bump()?;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Tok::LParen => {
                self.bump()?;
                let inner = self.or()?;
                if self.tok != Tok::RParen {
                    return Err(self.err(format!("expected ')', found {}", self.found())));
                }
                self.bump()?;
                Ok(inner)
            }
            Tok::Ident(field) => {
                let field_col = self.at + 1;
                self.bump()?;
                let cmp = match self.tok {
                    Tok::Op("==") => Cmp::Eq,
                    Tok::Op("!=") => Cmp::Ne,
                    Tok::Op("<") => Cmp::Lt,
                    Tok::Op("<=") => Cmp::Le,
                    Tok::Op(">") => Cmp::Gt,
                    Tok::Op(">=") => Cmp::Ge,
                    Tok::Op("&") => Cmp::Bit,
                    Tok::Op("~") => Cmp::Glob,
                    _ => {
                        return Err(self.err(format!(
                            "expected a comparison (== != < <= > >= & ~) after '{field}', found {}",
                            self.found()
                        )))
                    }
                };
                self.bump()?;
                let value_col = self.at + 1;
                let value = match self.tok.clone() {
                    Tok::Int(v) => Value::Int(v),
                    Tok::Str(s) => Value::Str(s),
                    _ => {
                        return Err(self.err(format!(
                            "expected a number or a quoted string, found {}",
                            self.found()
                        )))
                    }
                };
                self.bump()?;
                Ok(Expr::Pred(Pred {
                    field,
                    field_col,
                    cmp,
                    value,
                    value_col,
                }))
            }
            _ => Err(self.err(format!("expected a field name, found {}", self.found()))),
        }
    }
}

/// Parses one filter expression.
pub fn parse(src: &str) -> Result<Expr, FilterError> {
    let mut p = Parser {
        lex: Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
        },
        tok: Tok::End,
        at: 0,
    };
    p.bump()?;
    if p.tok == Tok::End {
        return Err(FilterError::new(src, "empty filter", 0));
    }
    let expr = p.or()?;
    if p.tok != Tok::End {
        return Err(p.err(format!("expected && or ||, found {}", p.found())));
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(src: &str) -> (String, usize) {
        let e = parse(src).unwrap_err();
        (e.message, e.column)
    }

    #[test]
    fn parses_precedence_and_literals() {
        let e = parse("fd == 3 || !(count >= 0x10 && flags & 010)").unwrap();
        let preds = e.preds();
        assert_eq!(preds.len(), 3);
        assert_eq!(preds[1].value, Value::Int(16));
        assert_eq!(preds[2].value, Value::Int(8));
        assert_eq!(preds[2].cmp, Cmp::Bit);
        assert!(matches!(e, Expr::Or(_, _)));
        let e = parse("ret == -2 && filename ~ \"/etc/*\"").unwrap();
        assert_eq!(e.preds()[0].value, Value::Int(-2));
        assert_eq!(e.preds()[1].value, Value::Str("/etc/*".into()));
        assert_eq!(e.preds()[1].value_col, 25);
    }

    #[test]
    fn errors_point_at_the_spot() {
        assert_eq!(col("fd == x").1, 7);
        assert_eq!(col("fd == 3 &&").1, 11);
        assert_eq!(col("fd = 3").1, 4);
        assert_eq!(col("(fd == 3").1, 9);
        assert_eq!(col("fd == 3 fd").1, 9);
        assert_eq!(col("fd == 09").1, 7);
        assert_eq!(col("fd == \"abc").1, 7);
        assert_eq!(col("fd == 3 $").1, 9);
        assert_eq!(col("   ").0, "empty filter");
        assert_eq!(
            parse("fd == x").unwrap_err().to_string(),
            "filter 'fd == x': expected a number or a quoted string, found 'x' at column 7"
        );
    }
}
