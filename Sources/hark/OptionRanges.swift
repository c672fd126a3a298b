import Foundation
import ArgumentParser

/// Every numeric option has a range, checked in `validate()` with a message that names the option
/// and the range: no value a user can type (1e15, -1e300, nan, inf, 2^63−1) may trap, allocate
/// without bound, or run for ever. Numeric options are declared with `parsing: .unconditional` so
/// that a negative value reaches this check instead of being taken for an option
/// ("Missing value for '--seconds'").
enum OptionRange {
    /// `value` must lie in `low...high`; `exclusiveLow` makes it `low < value`.
    static func check<T: Comparable>(_ option: String, _ value: T?, _ low: T, _ high: T, exclusiveLow: Bool = false,
                                     unit: String = "") throws {
        guard let value else { return }
        let aboveLow = exclusiveLow ? value > low : value >= low
        guard aboveLow && value <= high else {          // NaN is neither, so it fails too
            let lower = exclusiveLow ? "more than \(show(low))" : "at least \(show(low))"
            throw ValidationError("\(option) must be \(lower) and at most \(show(high))\(unit.isEmpty ? "" : " " + unit), not \(show(value))")
        }
    }

    /// For the options that take several values.
    static func check<T: Comparable>(_ option: String, _ values: [T], _ low: T, _ high: T, exclusiveLow: Bool = false,
                                     unit: String = "") throws {
        for v in values { try check(option, v, low, high, exclusiveLow: exclusiveLow, unit: unit) }
    }

    /// A number as a user would write it: 3600, 0.5, 1e+15, nan.
    static func show<T>(_ value: T) -> String {
        let d: Double
        switch value {
        case let v as Double: d = v
        case let v as Float: d = Double(v)
        default: return "\(value)"
        }
        if d.isFinite, d == d.rounded(), abs(d) < 1e12 { return String(Int64(d)) }
        return d.isFinite && abs(d) >= 1e-4 && abs(d) < 1e12 ? "\(d)" : String(format: "%g", d)
    }

    /// --seconds and its kind: a year.
    static let longestRun: Double = 365 * 24 * 3600
}
