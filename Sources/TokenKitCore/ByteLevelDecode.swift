extension ByteLevelAlphabet {
    /// `decode` on the UTF-8 spelling itself, into a reused buffer (no String): false if a
    /// character is outside the alphabet. The alphabet's characters are U+0021…U+0143, one or
    /// two UTF-8 bytes, so loading a 200k-token vocabulary costs a table load per byte.
    @inline(__always)
    public static func decodeUTF8(_ s: [UInt8], into out: inout [UInt8]) -> Bool {
        out.removeAll(keepingCapacity: true)
        var i = 0
        let n = s.count
        while i < n {
            let b0 = s[i]
            var v: Int
            if b0 < 0x80 {
                v = Int(b0)
                i += 1
            } else if b0 & 0xE0 == 0xC0, i + 1 < n, s[i + 1] & 0xC0 == 0x80 {
                v = Int(b0 & 0x1F) << 6 | Int(s[i + 1] & 0x3F)
                if v < 0x80 { return false }  // overlong
                i += 2
            } else {
                return false
            }
            guard v < byte.count else { return false }
            let b = byte[v]
            if b < 0 { return false }
            out.append(UInt8(b))
        }
        return true
    }
}
