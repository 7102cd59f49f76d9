/// A request that cannot be carried out as asked: a missing or contradictory setting, data that
/// do not fit the model, a value out of range. Said before any work where it can be; the program
/// reports it as a usage error (argument-parser's `ValidationError`, exit status 64), with the
/// same words.
public struct RequestError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
