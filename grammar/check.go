package grammar

import (
	"fmt"
	"reflect"

	"github.com/alecthomas/participle/v2/lexer"
)

// Strip zeroes positions, tokens and the text of line breaks (comments and
// blank lines), leaving what the file means to the parser.
func Strip(v any) {
	strip(reflect.ValueOf(v))
}

var posType = reflect.TypeOf(lexer.Position{})
var tokensType = reflect.TypeOf([]lexer.Token{})

func strip(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			strip(v.Elem())
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			strip(v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch {
			case f.Type() == posType || f.Type() == tokensType:
				f.Set(reflect.Zero(f.Type()))
			case f.Kind() == reflect.String && isGap(v.Type().Field(i).Name):
				f.SetString("")
			default:
				strip(f)
			}
		}
	}
}

// isGap names the fields that hold NL tokens.
func isGap(name string) bool {
	switch name {
	case "Head", "After", "Before", "Open", "Close":
		return true
	}
	return false
}

// CheckFormat reports whether formatting src is a fixed point and keeps the
// parse: Format(Parse(Format(x))) == Format(Parse(x)) and
// Parse(Format(x)) == Parse(x) up to positions and line breaks.
// Input that does not parse is not checked.
func CheckFormat(name string, src []byte) error {
	f, err := Parse(name, src)
	if err != nil {
		return nil
	}
	out := Format(f)
	g, err := Parse(name, out)
	if err != nil {
		return fmt.Errorf("%s: formatted output does not parse: %v\n%s", name, err, out)
	}
	if again := Format(g); string(again) != string(out) {
		return fmt.Errorf("%s: format is not a fixed point:\n--- once\n%s\n--- twice\n%s", name, out, again)
	}
	Strip(f)
	Strip(g)
	if !reflect.DeepEqual(f, g) {
		return fmt.Errorf("%s: parse(fmt(x)) != parse(x)\n%s", name, out)
	}
	return nil
}
