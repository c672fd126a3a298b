import Testing
@testable import Recognizer
