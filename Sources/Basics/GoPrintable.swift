extension Unicode.Scalar.Properties {
    /// Go's `unicode.IsPrint` without its special case for the ASCII space, which callers check
    /// themselves: letters, marks, numbers, punctuation and symbols; no spaces, controls or format
    /// characters.
    public var isGoPrintable: Bool {
        switch generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }
}
