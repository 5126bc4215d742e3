package op

// Arg is one argument of a layer as dsl classified and evaluated it.
type Arg struct {
	Num  float64 // a number or an expression; a flag's single value
	Dims []int   // a size AxB, or a flag's literal values
	Text string  // as written
	OK   bool    // evaluated without error (the error is reported)
	ID   int     // which argument of the layer, for positions
}

// Args reads the arguments of one layer; dsl implements it. Each method
// that takes an argument marks it used, and dsl reports every argument no
// method took. Errors are reported with the argument's or the layer's
// position and the block calls it was expanded through.
type Args interface {
	// Word is the layer word being read.
	Word() string
	// Positional takes the next number (or expression).
	Positional() (Arg, bool)
	// Size takes the first AxB size.
	Size() (Arg, bool)
	// Flag takes flag name (sN, s(expr), sNxM) and returns its one or two
	// whole values, each at least min.
	Flag(name string, min int) (h, w int, found bool)
	// Has takes a bare word such as nobias or ceil.
	Has(word string) bool
	// Value takes a key and the number after it (`eps 0.001`), as a train
	// setting's `lr 0.1`; found says the key is written, and the Arg is
	// not OK when its value is missing or wrong (the error is reported).
	Value(key string) (a Arg, found bool)
	// Integer checks that a is a whole number in [min, the limit].
	Integer(a Arg, min int, what string) (int, bool)
	// Errorf reports a problem of argument a.
	Errorf(a Arg, format string, v ...any)
	// Fail reports a problem of the layer as a whole.
	Fail(hint, format string, v ...any)
}
