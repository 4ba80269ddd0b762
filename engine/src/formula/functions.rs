//! The functions a formula can call, and the catalogue the canvas shows in its function palette.

use super::FunctionInfo;

/// A built-in function, resolved from its (case-insensitive) name while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `ABS(x)`
    Abs,
    /// `ROUND(x[, digits])`
    Round,
    /// `CEIL(x)`
    Ceil,
    /// `FLOOR(x)`
    Floor,
    /// `MOD(a, b)`
    Mod,
    /// `POWER(a, b)`
    Power,
    /// `SQRT(x)`
    Sqrt,
    /// `LOG(x)` or `LOG(base, x)`
    Log,
    /// `UPPER(s)`
    Upper,
    /// `LOWER(s)`
    Lower,
    /// `TRIM(s)`
    Trim,
    /// `LEFT(s, n)`
    Left,
    /// `RIGHT(s, n)`
    Right,
    /// `LENGTH(s)`
    Length,
    /// `CONCAT(a, b, ...)`
    Concat,
    /// `REPLACE(s, from, to)`
    Replace,
    /// `YEAR(t)`
    Year,
    /// `MONTH(t)`
    Month,
    /// `DAY(t)`
    Day,
    /// `HOUR(t)`
    Hour,
    /// `DATE_DIFF(unit, start, end)`
    DateDiff,
    /// `DATE_ADD(unit, n, t)`
    DateAdd,
    /// `NOW()`
    Now,
    /// `IF(cond, a, b)`
    If,
    /// `COALESCE(a, ...)`
    Coalesce,
    /// `NULLIF(a, b)`
    NullIf,
    /// `SUM(x)`
    Sum,
    /// `AVG(x)`
    Avg,
    /// `COUNT([x])`
    Count,
    /// `MIN(x)`
    Min,
    /// `MAX(x)`
    Max,
    /// `LAG(x[, n[, default]])`
    Lag,
    /// `LEAD(x[, n[, default]])`
    Lead,
    /// `ROW_NUMBER()`
    RowNumber,
    /// `RANK()`
    Rank,
    /// `DENSE_RANK()`
    DenseRank,
}

/// Where a function may be used, which decides the scope rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FunctionKind {
    /// Evaluated row by row.
    Scalar,
    /// Folds many rows into one: Group By, or a window aggregate in a Window node.
    Aggregate,
    /// Needs a window (partition and order): Window node only.
    Window,
}

impl Function {
    /// Every function, in palette order.
    pub const ALL: [Function; 36] = [
        Function::Abs,
        Function::Round,
        Function::Ceil,
        Function::Floor,
        Function::Mod,
        Function::Power,
        Function::Sqrt,
        Function::Log,
        Function::Upper,
        Function::Lower,
        Function::Trim,
        Function::Left,
        Function::Right,
        Function::Length,
        Function::Concat,
        Function::Replace,
        Function::Year,
        Function::Month,
        Function::Day,
        Function::Hour,
        Function::DateDiff,
        Function::DateAdd,
        Function::Now,
        Function::If,
        Function::Coalesce,
        Function::NullIf,
        Function::Sum,
        Function::Avg,
        Function::Count,
        Function::Min,
        Function::Max,
        Function::Lag,
        Function::Lead,
        Function::RowNumber,
        Function::Rank,
        Function::DenseRank,
    ];

    /// The function's name as written in formulas and messages.
    pub fn name(self) -> &'static str {
        match self {
            Function::Abs => "ABS",
            Function::Round => "ROUND",
            Function::Ceil => "CEIL",
            Function::Floor => "FLOOR",
            Function::Mod => "MOD",
            Function::Power => "POWER",
            Function::Sqrt => "SQRT",
            Function::Log => "LOG",
            Function::Upper => "UPPER",
            Function::Lower => "LOWER",
            Function::Trim => "TRIM",
            Function::Left => "LEFT",
            Function::Right => "RIGHT",
            Function::Length => "LENGTH",
            Function::Concat => "CONCAT",
            Function::Replace => "REPLACE",
            Function::Year => "YEAR",
            Function::Month => "MONTH",
            Function::Day => "DAY",
            Function::Hour => "HOUR",
            Function::DateDiff => "DATE_DIFF",
            Function::DateAdd => "DATE_ADD",
            Function::Now => "NOW",
            Function::If => "IF",
            Function::Coalesce => "COALESCE",
            Function::NullIf => "NULLIF",
            Function::Sum => "SUM",
            Function::Avg => "AVG",
            Function::Count => "COUNT",
            Function::Min => "MIN",
            Function::Max => "MAX",
            Function::Lag => "LAG",
            Function::Lead => "LEAD",
            Function::RowNumber => "ROW_NUMBER",
            Function::Rank => "RANK",
            Function::DenseRank => "DENSE_RANK",
        }
    }

    /// The function with this name, ignoring case.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    pub(crate) fn kind(self) -> FunctionKind {
        match self {
            Function::Sum | Function::Avg | Function::Count | Function::Min | Function::Max => {
                FunctionKind::Aggregate
            }
            Function::Lag
            | Function::Lead
            | Function::RowNumber
            | Function::Rank
            | Function::DenseRank => FunctionKind::Window,
            _ => FunctionKind::Scalar,
        }
    }
}

/// Names close to `name` (edit distance at most 2, or sharing a prefix), best first.
pub(crate) fn near_matches<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let wanted = name.to_lowercase();
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = strsim::levenshtein(&wanted, &lower);
            let prefix =
                wanted.len() >= 3 && (lower.starts_with(&wanted) || wanted.starts_with(&lower));
            (distance <= 2.max(wanted.chars().count() / 4) || prefix)
                .then_some((distance, candidate))
        })
        .collect();
    scored.sort_by_key(|(distance, _)| *distance);
    scored.into_iter().map(|(_, c)| c).take(3).collect()
}

/// The palette entries: every function plus the `CASE` expression.
pub(crate) static CATALOGUE: &[FunctionInfo] = &[
    FunctionInfo { name: "ABS", category: "Math", signature: "ABS(x)", description: "Absolute value of a number." },
    FunctionInfo { name: "ROUND", category: "Math", signature: "ROUND(x[, digits])", description: "Rounds to the given number of decimal places (default 0); returns a float, or a decimal for decimal input." },
    FunctionInfo { name: "CEIL", category: "Math", signature: "CEIL(x)", description: "Smallest whole number not less than x." },
    FunctionInfo { name: "FLOOR", category: "Math", signature: "FLOOR(x)", description: "Largest whole number not greater than x." },
    FunctionInfo { name: "MOD", category: "Math", signature: "MOD(a, b)", description: "Remainder of a divided by b (same as a % b)." },
    FunctionInfo { name: "POWER", category: "Math", signature: "POWER(a, b)", description: "a raised to the power b, as a float." },
    FunctionInfo { name: "SQRT", category: "Math", signature: "SQRT(x)", description: "Square root, as a float." },
    FunctionInfo { name: "LOG", category: "Math", signature: "LOG(x) | LOG(base, x)", description: "Natural logarithm of x, or the logarithm of x in the given base." },
    FunctionInfo { name: "UPPER", category: "Text", signature: "UPPER(s)", description: "Text in upper case." },
    FunctionInfo { name: "LOWER", category: "Text", signature: "LOWER(s)", description: "Text in lower case." },
    FunctionInfo { name: "TRIM", category: "Text", signature: "TRIM(s)", description: "Text without leading and trailing spaces." },
    FunctionInfo { name: "LEFT", category: "Text", signature: "LEFT(s, n)", description: "The first n characters." },
    FunctionInfo { name: "RIGHT", category: "Text", signature: "RIGHT(s, n)", description: "The last n characters." },
    FunctionInfo { name: "LENGTH", category: "Text", signature: "LENGTH(s)", description: "Number of characters." },
    FunctionInfo { name: "CONCAT", category: "Text", signature: "CONCAT(a, b, ...)", description: "Joins values as text; NULL counts as empty text." },
    FunctionInfo { name: "REPLACE", category: "Text", signature: "REPLACE(s, from, to)", description: "Replaces every occurrence of from with to." },
    FunctionInfo { name: "YEAR", category: "Date", signature: "YEAR(t)", description: "Year of a date or timestamp." },
    FunctionInfo { name: "MONTH", category: "Date", signature: "MONTH(t)", description: "Month (1-12) of a date or timestamp." },
    FunctionInfo { name: "DAY", category: "Date", signature: "DAY(t)", description: "Day of the month (1-31) of a date or timestamp." },
    FunctionInfo { name: "HOUR", category: "Date", signature: "HOUR(t)", description: "Hour (0-23) of a timestamp." },
    FunctionInfo { name: "DATE_DIFF", category: "Date", signature: "DATE_DIFF(unit, start, end)", description: "Whole units ('second', 'minute', 'hour', 'day', 'week') from start to end." },
    FunctionInfo { name: "DATE_ADD", category: "Date", signature: "DATE_ADD(unit, n, t)", description: "t moved by n units ('second' .. 'day', 'week', 'month', 'year')." },
    FunctionInfo { name: "NOW", category: "Date", signature: "NOW()", description: "The current timestamp (UTC) when the query runs." },
    FunctionInfo { name: "IF", category: "Logic", signature: "IF(condition, then, else)", description: "then when the condition is true, else otherwise." },
    FunctionInfo { name: "CASE", category: "Logic", signature: "CASE WHEN cond THEN a [WHEN ...] [ELSE b] END", description: "The result of the first true condition (or of the first matching value in CASE x WHEN v THEN ...)." },
    FunctionInfo { name: "COALESCE", category: "Logic", signature: "COALESCE(a, b, ...)", description: "The first argument that is not NULL." },
    FunctionInfo { name: "NULLIF", category: "Logic", signature: "NULLIF(a, b)", description: "NULL when a equals b, a otherwise." },
    FunctionInfo { name: "SUM", category: "Aggregate", signature: "SUM(x)", description: "Sum of a column (Group By, or over the window in a Window node)." },
    FunctionInfo { name: "AVG", category: "Aggregate", signature: "AVG(x)", description: "Average of a column." },
    FunctionInfo { name: "COUNT", category: "Aggregate", signature: "COUNT([x]) | COUNT()", description: "Number of non-NULL values, or of rows." },
    FunctionInfo { name: "MIN", category: "Aggregate", signature: "MIN(x)", description: "Smallest value." },
    FunctionInfo { name: "MAX", category: "Aggregate", signature: "MAX(x)", description: "Largest value." },
    FunctionInfo { name: "LAG", category: "Window", signature: "LAG(x[, n[, default]])", description: "x from n rows earlier (default 1) in the window order." },
    FunctionInfo { name: "LEAD", category: "Window", signature: "LEAD(x[, n[, default]])", description: "x from n rows later (default 1) in the window order." },
    FunctionInfo { name: "ROW_NUMBER", category: "Window", signature: "ROW_NUMBER()", description: "Position of the row in its partition, from 1." },
    FunctionInfo { name: "RANK", category: "Window", signature: "RANK()", description: "Rank in the window order, with gaps after ties." },
    FunctionInfo { name: "DENSE_RANK", category: "Window", signature: "DENSE_RANK()", description: "Rank in the window order, without gaps after ties." },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lists_every_function_and_case() {
        let mut names: Vec<&str> = CATALOGUE
            .iter()
            .map(|f| f.name)
            .filter(|n| *n != "CASE")
            .collect();
        let mut functions: Vec<&str> = Function::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        functions.sort_unstable();
        assert_eq!(names, functions);
        assert!(CATALOGUE.iter().any(|f| f.name == "CASE"));
    }

    #[test]
    fn names_resolve_case_insensitively() {
        assert_eq!(Function::from_name("date_diff"), Some(Function::DateDiff));
        assert_eq!(Function::from_name("Round"), Some(Function::Round));
        assert_eq!(Function::from_name("ROUNDS"), None);
    }

    #[test]
    fn near_matches_suggest_typos() {
        let names = Function::ALL.map(Function::name);
        assert_eq!(near_matches("ROUDN", names)[0], "ROUND");
        assert_eq!(near_matches("datediff", names)[0], "DATE_DIFF");
        assert!(near_matches("XYZZY", names).is_empty());
    }
}
