//! What readers type into the search box, turned into PostgreSQL tsquery
//! text that cannot be anything but words and our own operators.
//!
//! Syntax: words (all must match), `"a phrase"` (adjacent words, in order),
//! `-word` or `-"a phrase"` (must not match). Every other character
//! separates words: `a & | !b` is the two words `a` and `b`, never tsquery
//! syntax. A word joined by punctuation (`covid-19`) is a phrase of its
//! parts. Words are matched with and without diacritics: `binh dang gioi`
//! finds `bình đẳng giới`.

use std::fmt::Write;

/// The longest `q` accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most words a query may hold (positive and excluded together).
pub const MAX_WORDS: usize = 20;
/// Longer words are cut here (no real word is this long).
const MAX_WORD_CHARS: usize = 60;

/// Why a query cannot be searched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    Empty,
    TooLong,
    TooManyWords,
    /// Only punctuation, or only exclusions.
    NothingToFind,
}

impl QueryError {
    pub fn reason(&self) -> String {
        match self {
            Self::Empty => "must not be empty".into(),
            Self::TooLong => format!("must be at most {MAX_QUERY_CHARS} characters"),
            Self::TooManyWords => format!("may hold at most {MAX_WORDS} words"),
            Self::NothingToFind => {
                "must contain at least one word to look for (letters or digits), not only exclusions"
                    .into()
            }
        }
    }
}

/// A group of words that must appear together, in order (a single word is a
/// group of one).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    words: Vec<String>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    include: Vec<Term>,
    exclude: Vec<Term>,
}

/// Which lexemes a tsquery may match: anywhere, or only in the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Anywhere,
    Title,
}

impl SearchQuery {
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(QueryError::Empty);
        }
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        let mut chars = input.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let negated = c == '-';
            if negated {
                chars.next();
            }
            let raw: String = if chars.peek() == Some(&'"') {
                chars.next();
                // An unclosed quote runs to the end of the query.
                chars.by_ref().take_while(|&c| c != '"').collect()
            } else {
                let mut token = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    token.push(c);
                    chars.next();
                }
                token
            };
            let words = words_of(&raw);
            if words.is_empty() {
                continue;
            }
            let term = Term { words };
            let list = if negated { &mut exclude } else { &mut include };
            if !list.contains(&term) {
                list.push(term);
            }
        }
        let count: usize = include.iter().chain(&exclude).map(|t| t.words.len()).sum();
        if count > MAX_WORDS {
            return Err(QueryError::TooManyWords);
        }
        if include.is_empty() {
            return Err(QueryError::NothingToFind);
        }
        Ok(Self { include, exclude })
    }

    /// Whether any word carries diacritics (or `đ`): then exact-diacritic
    /// matches are told apart and ranked first.
    pub fn has_diacritics(&self) -> bool {
        self.include
            .iter()
            .flat_map(|t| &t.words)
            .any(|w| !w.is_ascii())
    }

    /// tsquery text of the words to find. For the folding configuration
    /// (`newsroom_fold`) `đ` is already replaced; `exact` keeps the words as
    /// typed (lower-cased by the `simple` configuration). `prefix` makes the
    /// last word match any word it starts (search-as-you-type).
    pub fn tsquery(&self, exact: bool, scope: Scope, prefix: bool) -> String {
        let last = self.include.len() - 1;
        let parts: Vec<String> = self
            .include
            .iter()
            .enumerate()
            .map(|(i, t)| render(t, exact, scope, prefix && i == last))
            .collect();
        parts.join(" & ")
    }

    /// tsquery text matching any excluded term (folded), if there are any.
    pub fn excluded(&self) -> Option<String> {
        if self.exclude.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .exclude
            .iter()
            .map(|t| render(t, false, Scope::Anywhere, false))
            .collect();
        Some(parts.join(" | "))
    }

    /// The words to find, folded, each once.
    pub fn folded_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .include
            .iter()
            .flat_map(|t| &t.words)
            .map(|w| fold_word(w))
            .collect();
        words.sort();
        words.dedup();
        words
    }

    /// The query with misspelt words replaced (`fixes`: folded word → the
    /// folded word to use instead, or `None` when nothing is close), folded
    /// throughout; `None` when nothing changed.
    pub fn corrected(&self, fixes: &[(String, Option<String>)]) -> Option<Self> {
        let mut changed = false;
        let include = self
            .include
            .iter()
            .map(|t| Term {
                // deunicode may fold a letter into something else (`ь` →
                // `'`, `¼` → `1/4`): only its letters and digits are words.
                words: t
                    .words
                    .iter()
                    .map(|w| {
                        let folded = fold_word(w);
                        match fixes.iter().find(|(from, _)| *from == folded) {
                            Some((_, Some(to))) if *to != folded => {
                                changed = true;
                                to.clone()
                            }
                            _ => folded,
                        }
                    })
                    .flat_map(|w| words_of(&w))
                    .collect(),
            })
            .filter(|t: &Term| !t.words.is_empty())
            .collect::<Vec<_>>();
        if include.is_empty() {
            return None;
        }
        changed.then(|| Self {
            include,
            exclude: self.exclude.clone(),
        })
    }

    /// The query written out again, e.g. for "did you mean".
    pub fn text(&self) -> String {
        let term = |t: &Term| match t.words.as_slice() {
            [one] => one.clone(),
            many => format!("\"{}\"", many.join(" ")),
        };
        self.include
            .iter()
            .map(term)
            .chain(self.exclude.iter().map(|t| format!("-{}", term(t))))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Marks this query's words (`prefix`: the last one as a prefix).
    pub fn marker(&self, prefix: bool) -> Marker {
        let exact: Vec<String> = self
            .include
            .iter()
            .flat_map(|t| &t.words)
            .cloned()
            .collect();
        Marker {
            folded: exact.iter().map(|w| fold_word(w)).collect(),
            exact,
            prefix_last: prefix,
        }
    }

    /// A stable fingerprint, so a cursor only fits the query it came from.
    pub fn fingerprint(&self) -> u64 {
        // FNV-1a: stable across builds and processes (unlike DefaultHasher).
        let text = format!(
            "{}/{}",
            self.tsquery(true, Scope::Anywhere, false),
            self.excluded().unwrap_or_default()
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// A tsquery (folding configuration) matching titles and summaries that
/// share a pair of adjacent words with `title`. Vietnamese words are mostly
/// two syllables (`bình đẳng`, `Quảng Ninh`), so shared pairs say far more
/// than shared syllables. `None` for a title without words.
pub fn similarity_tsquery(title: &str) -> Option<String> {
    let words: Vec<String> = words_of(title)
        .into_iter()
        .take(16)
        .map(|w| fold_d(&w))
        .collect();
    match words.as_slice() {
        [] => None,
        [one] => Some(format!("'{one}'")),
        _ => {
            let mut pairs: Vec<String> = words
                .windows(2)
                .map(|p| format!("('{}' <-> '{}')", p[0], p[1]))
                .collect();
            pairs.dedup();
            Some(pairs.join(" | "))
        }
    }
}

/// Letters and digits runs of `raw`; everything else separates them.
fn words_of(raw: &str) -> Vec<String> {
    // Lower-cased first: `İ` lower-cases to `i` and a combining dot, which
    // must then separate like any other non-letter.
    raw.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect())
        .collect()
}

/// A lexeme as tsquery text reads it between single quotes.
fn quote_lexeme(word: &str) -> String {
    word.replace('\\', "\\\\").replace('\'', "''")
}

fn fold_d(text: &str) -> String {
    text.replace('đ', "d").replace('Đ', "D")
}

fn render(term: &Term, exact: bool, scope: Scope, prefix_last: bool) -> String {
    let mut out = String::new();
    let grouped = term.words.len() > 1;
    if grouped {
        out.push('(');
    }
    for (i, word) in term.words.iter().enumerate() {
        if i > 0 {
            out.push_str(" <-> ");
        }
        // Parsed words hold only letters and digits, but corrected ones are
        // folded by deunicode (`ь` → `'`): quote whatever a word holds.
        let word = if exact { word.clone() } else { fold_d(word) };
        let _ = write!(out, "'{}'", quote_lexeme(&word));
        let prefix = prefix_last && i == term.words.len() - 1;
        let weights = match scope {
            Scope::Anywhere => "",
            Scope::Title => "A",
        };
        if prefix || !weights.is_empty() {
            out.push(':');
            if prefix {
                out.push('*');
            }
            out.push_str(weights);
        }
    }
    if grouped {
        out.push(')');
    }
    out
}

/// Marks the query's words in text, as HTML: everything escaped, `<mark>`
/// around each word that matches one of the query's, with or without
/// diacritics (`exact`: only with the query's own).
pub struct Marker {
    folded: Vec<String>,
    exact: Vec<String>,
    /// The last word matches any word it starts (search-as-you-type).
    prefix_last: bool,
}

/// A word as the folding search configuration sees it: lower case, no
/// diacritics, `đ` → `d`.
pub fn fold_word(word: &str) -> String {
    deunicode::deunicode(&fold_d(word)).to_lowercase()
}

/// Runs of letters and digits (`true`) and of everything else (`false`).
fn tokens(text: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let word = c.is_alphanumeric();
        if current.is_some_and(|w| w != word) {
            out.push((current.unwrap_or(false), &text[start..i]));
            start = i;
        }
        current = Some(word);
    }
    if let Some(word) = current {
        out.push((word, &text[start..]));
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    out.push_str(&super::body::escape_text(text));
}

impl Marker {
    fn matches(&self, word: &str, exact: bool) -> bool {
        let (candidates, word) = if exact {
            (&self.exact, word.to_lowercase())
        } else {
            (&self.folded, fold_word(word))
        };
        let last = candidates.len().saturating_sub(1);
        candidates.iter().enumerate().any(|(i, q)| {
            word == *q || (self.prefix_last && i == last && word.starts_with(q.as_str()))
        })
    }

    /// Whether any word of `text` matches.
    pub fn finds(&self, text: &str, exact: bool) -> bool {
        tokens(text)
            .into_iter()
            .any(|(word, t)| word && self.matches(t, exact))
    }

    /// All of `text`, escaped, with the matches marked.
    pub fn highlight(&self, text: &str, exact: bool) -> String {
        self.render(&tokens(text), exact)
    }

    /// About `words` words of `text` around its first match (from the
    /// start when nothing matches), escaped, matches marked, `…` where cut.
    pub fn snippet(&self, text: &str, exact: bool, words: usize) -> String {
        let tokens = tokens(text);
        let word_at: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(_, (word, _))| *word)
            .map(|(i, _)| i)
            .collect();
        let first = word_at
            .iter()
            .position(|&i| self.matches(tokens[i].1, exact))
            .unwrap_or(0);
        let from_word = first.saturating_sub(words / 3);
        let to_word = (from_word + words).min(word_at.len());
        if word_at.is_empty() {
            return self.render(&tokens, exact);
        }
        let from = if from_word == 0 {
            0
        } else {
            word_at[from_word]
        };
        let to = if to_word == word_at.len() {
            tokens.len()
        } else {
            word_at[to_word]
        };
        let mut out = String::new();
        if from > 0 {
            out.push_str("… ");
        }
        out.push_str(self.render(&tokens[from..to], exact).trim_end());
        if to < tokens.len() {
            out.push_str(" …");
        }
        out
    }

    fn render(&self, tokens: &[(bool, &str)], exact: bool) -> String {
        let mut out = String::new();
        for &(word, text) in tokens {
            if word && self.matches(text, exact) {
                out.push_str("<mark>");
                escape_into(&mut out, text);
                out.push_str("</mark>");
            } else {
                escape_into(&mut out, text);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> SearchQuery {
        SearchQuery::parse(text).unwrap()
    }

    #[test]
    fn words_phrases_exclusions_and_prefixes() {
        assert_eq!(
            q("Bình đẳng giới").tsquery(false, Scope::Anywhere, false),
            "'bình' & 'dẳng' & 'giới'"
        );
        assert_eq!(
            q("Bình đẳng").tsquery(true, Scope::Title, false),
            "'bình':A & 'đẳng':A"
        );
        let phrase = q("\"bạo lực gia đình\" -covid -\"tai nạn\"");
        assert_eq!(
            phrase.tsquery(false, Scope::Anywhere, false),
            "('bạo' <-> 'lực' <-> 'gia' <-> 'dình')"
        );
        assert_eq!(phrase.excluded().unwrap(), "'covid' | ('tai' <-> 'nạn')");
        assert_eq!(
            q("binh da").tsquery(false, Scope::Title, true),
            "'binh':A & 'da':*A"
        );
        assert_eq!(
            q("covid-19").tsquery(false, Scope::Anywhere, false),
            "('covid' <-> '19')"
        );
        assert!(q("Quảng Ninh").has_diacritics() && !q("quang ninh").has_diacritics());
        assert!(q("đ").has_diacritics());
    }

    #[test]
    fn operators_and_quotes_are_only_separators() {
        assert_eq!(
            q("a & | !b").tsquery(false, Scope::Anywhere, false),
            "'a' & 'b'"
        );
        assert_eq!(
            q("x') OR 1=1; --").tsquery(false, Scope::Anywhere, false),
            "'x' & 'or' & ('1' <-> '1')"
        );
        // An unclosed quote runs to the end.
        assert_eq!(
            q("\"bạo lực").tsquery(false, Scope::Anywhere, false),
            "('bạo' <-> 'lực')"
        );
        assert_eq!(q("a a A").tsquery(false, Scope::Anywhere, false), "'a'");
    }

    #[test]
    fn refuses_what_cannot_be_searched() {
        assert_eq!(SearchQuery::parse("  "), Err(QueryError::Empty));
        assert_eq!(
            SearchQuery::parse(&"a".repeat(1000)),
            Err(QueryError::TooLong)
        );
        assert_eq!(
            SearchQuery::parse("!!! ??? \"\""),
            Err(QueryError::NothingToFind)
        );
        assert_eq!(SearchQuery::parse("-covid"), Err(QueryError::NothingToFind));
        let many = (0..21)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(SearchQuery::parse(&many), Err(QueryError::TooManyWords));
    }

    #[test]
    fn corrections_replace_only_misspelt_words() {
        let query = q("Quảng nimh \"tang truog\" -covid");
        assert_eq!(query.folded_words(), ["nimh", "quang", "tang", "truog"]);
        let fixes = vec![
            ("nimh".to_owned(), Some("ninh".to_owned())),
            ("quang".to_owned(), Some("quang".to_owned())),
            ("tang".to_owned(), Some("tang".to_owned())),
            ("truog".to_owned(), Some("truong".to_owned())),
        ];
        let fixed = query.corrected(&fixes).unwrap();
        assert_eq!(fixed.text(), "quang ninh \"tang truong\" -covid");
        assert!(!fixed.has_diacritics());
        let nothing = vec![("nimh".to_owned(), None)];
        assert_eq!(q("nimh").corrected(&nothing), None);
    }

    #[test]
    fn similarity_uses_adjacent_pairs() {
        assert_eq!(
            similarity_tsquery("Đông Mai: bình đẳng").unwrap(),
            "('dông' <-> 'mai') | ('mai' <-> 'bình') | ('bình' <-> 'dẳng')"
        );
        assert_eq!(similarity_tsquery("Covid").unwrap(), "'covid'");
        assert_eq!(similarity_tsquery("…!"), None);
    }

    #[test]
    fn marks_words_with_or_without_diacritics_and_escapes_the_rest() {
        let marker = q("quang ninh <b>").marker(false);
        assert_eq!(
            marker.highlight("Tỉnh <b>Quảng Ninh</b> & QUẢNG ninh; Quang", false),
            "Tỉnh &lt;<mark>b</mark>&gt;<mark>Quảng</mark> <mark>Ninh</mark>&lt;/<mark>b</mark>&gt; &amp; <mark>QUẢNG</mark> <mark>ninh</mark>; <mark>Quang</mark>"
        );
        let exact = q("Quảng").marker(false);
        assert_eq!(
            exact.highlight("Quảng, Quang, quãng", true),
            "<mark>Quảng</mark>, Quang, quãng"
        );
        assert_eq!(
            q("đông").marker(false).highlight("ĐÔNG Mai, Dong", false),
            "<mark>ĐÔNG</mark> Mai, <mark>Dong</mark>"
        );
        let prefix = q("binh da").marker(true);
        assert_eq!(
            prefix.highlight("Bình đẳng, bình Dân, da", false),
            "<mark>Bình</mark> <mark>đẳng</mark>, <mark>bình</mark> <mark>Dân</mark>, <mark>da</mark>"
        );
    }

    #[test]
    fn snippets_are_cut_around_the_first_match() {
        let text = (1..=100)
            .map(|i| format!("từ{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let marker = q("tu50").marker(false);
        let snippet = marker.snippet(&text, false, 9);
        assert_eq!(
            snippet,
            "… từ47 từ48 từ49 <mark>từ50</mark> từ51 từ52 từ53 từ54 từ55 …"
        );
        assert_eq!(marker.snippet("ngắn <i>", false, 9), "ngắn &lt;i&gt;");
        assert_eq!(
            q("xyz").marker(false).snippet(&text, false, 3),
            "từ1 từ2 từ3 …"
        );
    }
}
