// Package textnorm defines what "the same word" is, for every part of
// earshot that compares words: the matcher's keywords, enrichment's
// lexicons and the search index. It is a leaf package of tables and
// functions; match, enrich and search all read text through it, so that a
// post a rule matches is found by a search for the rule's words.
//
// Folding makes spelling variants one, a character at a time:
//
//   - compatibility forms (NFKC): ligatures ("ﬁ" is "fi"), fullwidth and
//     halfwidth forms ("Ａ" is "a", "ｱ" is "ア"), mathematical letters,
//     Roman numerals ("ⅿ" is "m") and superscript, subscript and circled
//     digits ("²" is "2", part of a word as any digit is);
//   - case, in full: "Ω" is "ω", final "ς" is "σ", "ß" and "ẞ" are "ss",
//     Turkish "İ" and dotless "ı" are "i";
//   - diacritics: "é" and "e" followed by a combining acute are "e", "ά"
//     is "α";
//   - invisible characters (every default-ignorable code point: zero-width
//     spaces and joiners, soft hyphens, bidi marks and controls, variation
//     selectors, tag characters, Hangul and braille blank fillers, emoji
//     skin tones) are dropped without breaking a word: "ac\u200Bme" is
//     "acme";
//   - letters that imitate Latin ones (Cyrillic "а", Greek "Α", small
//     capital "ᴀ", circled "ⓐ") become the Latin letter (Ignorable and
//     Latin, a restriction of Unicode TR39's confusables).
//
// Word boundaries (Tokenize): a word is a run of letters, digits and
// combining marks; everything else separates words, except that invisible
// characters are skipped. Ideographs, kana, Hangul, Thai, Lao, Khmer,
// Myanmar and emoji are each a word of their own, since those scripts are
// written without spaces: "我在東京" is four words, and the keyword "東京"
// is the two-word phrase "東 京". A word written after "#" or "@" is a
// hashtag or a mention.
//
// Levels. The matcher folds everything (Full). A rule term marked ^ opts
// out of look-alike folding only (Plain): "^сок" stays Cyrillic. A
// lexicon in a script other than Latin (Greek sentiment) reads Plain keys,
// and one that must keep diacritics ("schon" is not "schön") reads Canon
// keys; every level drops invisibles and folds compatibility forms and
// case the same way, so a hostile spelling of a word reads the same at
// every level.
package textnorm
