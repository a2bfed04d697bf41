package post

import "errors"

// Class is a dead letter's reason class: one of a small closed set, so it
// can label a metric and an alert where the reason (free text that may
// quote a post) cannot. It is set where the dead letter is made, never
// parsed back from the reason. docs/guarantees.md says what to do for each.
type Class string

// The classes. A new one is added here, in Classes, and in
// docs/guarantees.md; anything else is ClassOther.
const (
	ClassTooBig         Class = "too_big"         // an input or a field over its size limit
	ClassDecode         Class = "decode"          // unreadable bytes: not JSON, invalid UTF-8, a damaged envelope
	ClassUnknownVersion Class = "unknown_version" // a wire version newer than this build reads
	ClassInvalidField   Class = "invalid_field"   // decoded, but a field is missing or not allowed
	ClassBudgetExceeded Class = "budget_exceeded" // a post that needed more matching work than its budget
	ClassMisrouted      Class = "misrouted"       // a record on a topic it does not belong on
	ClassForeignSource  Class = "foreign_source"  // a change or delete from a source other than the post's
	ClassDeliveryFailed Class = "delivery_failed" // a notification or webhook given up on after its tries
	ClassStoreFailed    Class = "store_failed"    // ClickHouse or the search index refused the record
	ClassPanic          Class = "panic"           // a stage panicked on the record (a bug)
	ClassOther          Class = "other"           // none of the above
)

// Classes is the closed set, in a fixed order.
var Classes = [...]Class{ClassTooBig, ClassDecode, ClassUnknownVersion, ClassInvalidField, ClassBudgetExceeded, ClassMisrouted,
	ClassForeignSource, ClassDeliveryFailed, ClassStoreFailed, ClassPanic, ClassOther}

// Index is c's position in Classes; a class not in the set (an empty one,
// or one from a newer writer) is ClassOther's.
func (c Class) Index() int {
	for i, k := range Classes {
		if k == c {
			return i
		}
	}
	return len(Classes) - 1
}

// Known returns c if it is in the closed set, else ClassOther.
func (c Class) Known() Class { return Classes[c.Index()] }

// classError is an error carrying the class of the dead letter it makes.
type classError struct {
	class Class
	err   error
}

func (e *classError) Error() string { return e.err.Error() }
func (e *classError) Unwrap() error { return e.err }

// WithClass marks err as making a dead letter of class c; wrapping it
// further (fmt.Errorf with %w) keeps the class. A nil err stays nil.
func WithClass(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &classError{c, err}
}

// ClassOf is the class err was marked with (the innermost mark wins: it
// was set closest to the cause), or fallback when it has none.
func ClassOf(err error, fallback Class) Class {
	if errors.Is(err, ErrInvalidUTF8) {
		fallback = ClassDecode
	}
	var ce *classError
	for errors.As(err, &ce) {
		fallback, err = ce.class, ce.err
	}
	return fallback
}
