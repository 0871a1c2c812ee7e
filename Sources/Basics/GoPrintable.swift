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

extension Unicode.Scalar {
    /// As `properties.isGoPrintable`, with ASCII answered from the value: the general category
    /// lookup is most of the time of checking or rendering a password policy's charsets.
    public var isGoPrintable: Bool {
        isASCII ? value > 0x20 && value < 0x7f : properties.isGoPrintable
    }
}
