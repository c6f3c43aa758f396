import Foundation
import Testing
@testable import TokenKitSuperwords
import TokenKitCore

@Suite struct SuperBPEFilterTests {
    @Test func filtersCountWordsAndColons() {
        #expect(SuperBPETrainer.allowed(Array(" of the".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(!SuperBPETrainer.allowed(Array("a b c d e".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(SuperBPETrainer.allowed(Array(" a b c d".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(!SuperBPETrainer.allowed(Array("note: x".utf8), maxWords: 4, forbidColonSpace: true))
        #expect(SuperBPETrainer.allowed(Array("note: x".utf8), maxWords: 4, forbidColonSpace: false))
        #expect(SuperBPETrainer.allowed(Array("a:b".utf8), maxWords: 4, forbidColonSpace: true))
    }
}
