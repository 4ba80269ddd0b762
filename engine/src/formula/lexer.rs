//! Splits formula source into tokens.
//!
//! Positions are character offsets so that error carets line up with what the user typed even
//! when column names or strings contain non-ASCII text. A bracketed column reference, including
//! an optional row offset (`[close, -1]`), is lexed as a single token because names may contain
//! spaces and operator characters.

use super::ast::Span;
use super::FormulaError;

/// Words with a fixed meaning in the grammar; matched case-insensitively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    Is,
    True,
    False,
    Null,
    Case,
    When,
    Then,
    Else,
    End,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        const WORDS: [(&str, Keyword); 12] = [
            ("AND", Keyword::And),
            ("OR", Keyword::Or),
            ("NOT", Keyword::Not),
            ("IS", Keyword::Is),
            ("TRUE", Keyword::True),
            ("FALSE", Keyword::False),
            ("NULL", Keyword::Null),
            ("CASE", Keyword::Case),
            ("WHEN", Keyword::When),
            ("THEN", Keyword::Then),
            ("ELSE", Keyword::Else),
            ("END", Keyword::End),
        ];
        WORDS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|(_, k)| *k)
    }

    /// The keyword as written in messages.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::And => "AND",
            Keyword::Or => "OR",
            Keyword::Not => "NOT",
            Keyword::Is => "IS",
            Keyword::True => "TRUE",
            Keyword::False => "FALSE",
            Keyword::Null => "NULL",
            Keyword::Case => "CASE",
            Keyword::When => "WHEN",
            Keyword::Then => "THEN",
            Keyword::Else => "ELSE",
            Keyword::End => "END",
        }
    }
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// `[name]` or `[name, offset]`.
    Column {
        name: String,
        offset: i64,
    },
    /// A bare word that is not a keyword: a function name.
    Ident(String),
    Keyword(Keyword),
    /// An unsigned whole number; the sign is a separate token. Kept as `u64` so that
    /// `-9223372036854775808` can still be written.
    Int(u64),
    Float(f64),
    Str(String),
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Eof,
}

impl TokenKind {
    /// How the token is described in "unexpected ..." messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Column { name, .. } => format!("column reference [{name}]"),
            TokenKind::Ident(word) => format!("name '{word}'"),
            TokenKind::Keyword(k) => k.as_str().to_string(),
            TokenKind::Int(n) => format!("number {n}"),
            TokenKind::Float(x) => format!("number {x}"),
            TokenKind::Str(_) => "string literal".to_string(),
            TokenKind::LParen => "'('".to_string(),
            TokenKind::RParen => "')'".to_string(),
            TokenKind::Comma => "','".to_string(),
            TokenKind::Plus => "'+'".to_string(),
            TokenKind::Minus => "'-'".to_string(),
            TokenKind::Star => "'*'".to_string(),
            TokenKind::Slash => "'/'".to_string(),
            TokenKind::Percent => "'%'".to_string(),
            TokenKind::Eq => "'='".to_string(),
            TokenKind::NotEq => "'!='".to_string(),
            TokenKind::Lt => "'<'".to_string(),
            TokenKind::LtEq => "'<='".to_string(),
            TokenKind::Gt => "'>'".to_string(),
            TokenKind::GtEq => "'>='".to_string(),
            TokenKind::Eof => "end of formula".to_string(),
        }
    }
}

/// A token and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) span: Span,
}

/// Tokenizes the whole source; the last token is always [`TokenKind::Eof`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, FormulaError> {
    Lexer {
        chars: src.chars().collect(),
        pos: 0,
    }
    .run()
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn run(mut self) -> Result<Vec<Token>, FormulaError> {
        let mut tokens = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                tokens.push(Token {
                    kind: TokenKind::Eof,
                    span: Span::new(start, start),
                });
                return Ok(tokens);
            };
            let kind = match c {
                '[' => self.column()?,
                '\'' | '"' => self.string(c)?,
                '0'..='9' => self.number()?,
                '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number()?,
                c if c.is_alphabetic() || c == '_' => self.word(),
                _ => self.operator(c)?,
            };
            tokens.push(Token {
                kind,
                span: Span::new(start, self.pos),
            });
        }
    }

    fn operator(&mut self, c: char) -> Result<TokenKind, FormulaError> {
        let next = self.peek_at(1);
        let (kind, len) = match (c, next) {
            ('(', _) => (TokenKind::LParen, 1),
            (')', _) => (TokenKind::RParen, 1),
            (',', _) => (TokenKind::Comma, 1),
            ('+', _) => (TokenKind::Plus, 1),
            ('-', _) => (TokenKind::Minus, 1),
            ('*', _) => (TokenKind::Star, 1),
            ('/', _) => (TokenKind::Slash, 1),
            ('%', _) => (TokenKind::Percent, 1),
            ('=', Some('=')) => (TokenKind::Eq, 2),
            ('=', _) => (TokenKind::Eq, 1),
            ('!', Some('=')) => (TokenKind::NotEq, 2),
            ('<', Some('>')) => (TokenKind::NotEq, 2),
            ('<', Some('=')) => (TokenKind::LtEq, 2),
            ('<', _) => (TokenKind::Lt, 1),
            ('>', Some('=')) => (TokenKind::GtEq, 2),
            ('>', _) => (TokenKind::Gt, 1),
            (']', _) => {
                return Err(FormulaError::new(self.pos, "unmatched ']'")
                    .expecting("'[' before the column name"))
            }
            _ => {
                return Err(
                    FormulaError::new(self.pos, format!("unexpected character '{c}'"))
                        .expecting("an operator, a value, a [column] or a function"),
                )
            }
        };
        self.pos += len;
        Ok(kind)
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match Keyword::from_word(&word) {
            Some(k) => TokenKind::Keyword(k),
            None => TokenKind::Ident(word),
        }
    }

    fn number(&mut self) -> Result<TokenKind, FormulaError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let mut is_float = false;
        if self.peek() == Some('.') {
            is_float = true;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if self
            .peek()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '.')
        {
            return Err(FormulaError::new(self.pos, "malformed number").expecting("a digit"));
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        if is_float {
            text.parse::<f64>()
                .map(TokenKind::Float)
                .map_err(|_| FormulaError::new(start, format!("malformed number '{text}'")))
        } else {
            text.parse::<u64>().map(TokenKind::Int).map_err(|_| {
                FormulaError::new(
                    start,
                    format!("number {text} is too large for a whole number"),
                )
            })
        }
    }

    /// A string in `quote`s; a doubled quote stands for one quote character.
    fn string(&mut self, quote: char) -> Result<TokenKind, FormulaError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(FormulaError::new(start, "unterminated string")
                        .expecting(format!("a closing {quote}")))
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    if self.peek() == Some(quote) {
                        value.push(quote);
                        self.pos += 1;
                    } else {
                        return Ok(TokenKind::Str(value));
                    }
                }
                Some(c) => {
                    value.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `[name]` or `[name, offset]`; `]]` inside the name stands for one `]`.
    fn column(&mut self) -> Result<TokenKind, FormulaError> {
        let start = self.pos;
        self.pos += 1;
        let mut name = String::new();
        let has_offset = loop {
            match self.peek() {
                None => {
                    return Err(
                        FormulaError::new(start, "unterminated column reference").expecting("']'")
                    )
                }
                Some(']') if self.peek_at(1) == Some(']') => {
                    name.push(']');
                    self.pos += 2;
                }
                Some(']') => {
                    self.pos += 1;
                    break false;
                }
                Some(',') => {
                    self.pos += 1;
                    break true;
                }
                Some(c) => {
                    name.push(c);
                    self.pos += 1;
                }
            }
        };
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(FormulaError::new(start, "empty column reference")
                .expecting("a column name between the brackets"));
        }
        let offset = if has_offset { self.row_offset()? } else { 0 };
        Ok(TokenKind::Column { name, offset })
    }

    /// The `-1]` part of `[close, -1]`.
    fn row_offset(&mut self) -> Result<i64, FormulaError> {
        const EXPECTED: &str = "a whole-number row offset such as -1 or 1, then ']'";
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        if matches!(self.peek(), Some('-' | '+')) {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let offset = text.parse::<i64>().map_err(|_| {
            FormulaError::new(start, "invalid row offset in column reference").expecting(EXPECTED)
        })?;
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        if self.peek() != Some(']') {
            return Err(
                FormulaError::new(self.pos, "invalid row offset in column reference")
                    .expecting(EXPECTED),
            );
        }
        self.pos += 1;
        Ok(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn brackets_hold_spaces_escapes_and_offsets() {
        assert_eq!(
            kinds("[close price] [a]]b] [close, -2]"),
            vec![
                TokenKind::Column {
                    name: "close price".into(),
                    offset: 0
                },
                TokenKind::Column {
                    name: "a]b".into(),
                    offset: 0
                },
                TokenKind::Column {
                    name: "close".into(),
                    offset: -2
                },
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn strings_take_either_quote_and_doubled_quotes() {
        assert_eq!(
            kinds(r#"'it''s' "say ""hi""" 'a"b'"#),
            vec![
                TokenKind::Str("it's".into()),
                TokenKind::Str("say \"hi\"".into()),
                TokenKind::Str("a\"b".into()),
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let tokens = tokenize("[prix é] + 1").unwrap();
        assert_eq!(tokens[1].span, Span::new(9, 10));
        let err = tokenize("'héllo' # 1").unwrap_err();
        assert_eq!(err.position, 8);
    }

    #[test]
    fn two_character_operators() {
        assert_eq!(
            kinds("<> != <= >= == < >"),
            vec![
                TokenKind::NotEq,
                TokenKind::NotEq,
                TokenKind::LtEq,
                TokenKind::GtEq,
                TokenKind::Eq,
                TokenKind::Lt,
                TokenKind::Gt,
                TokenKind::Eof,
            ]
        );
    }

    #[test]
    fn lexical_errors_point_at_the_problem() {
        let err = tokenize("1 + 'abc").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (4, "unterminated string")
        );
        let err = tokenize("[price").unwrap_err();
        assert_eq!(err.position, 0);
        assert_eq!(err.expected.as_deref(), Some("']'"));
        let err = tokenize("[close, x]").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (8, "invalid row offset in column reference")
        );
        let err = tokenize("[ ]").unwrap_err();
        assert_eq!(err.message, "empty column reference");
        let err = tokenize("99999999999999999999").unwrap_err();
        assert!(err.message.contains("too large"), "{err}");
        let err = tokenize("12abc").unwrap_err();
        assert_eq!(
            (err.position, err.message.as_str()),
            (2, "malformed number")
        );
    }
}
