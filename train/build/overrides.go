package build

import (
	"encoding/json"
	"fmt"

	"github.com/cnnc-dev/cnnc/dsl"
)

// Overrides are the command-line changes to a .cnn's recipe that are
// compiled into the generated package (the optimizer's constants and the
// schedule's base LR live there): cnnc train's --lr, --momentum, --decay and
// --nesterov. A nil field keeps the recipe's value.
//
// Overrides are recorded, as String, in the training binary's main.go and
// from there in every checkpoint, so that cnnc eval can rebuild the same
// network (ParseOverrides reads them back).
type Overrides struct {
	LR       *float64 `json:"lr,omitempty"`
	Momentum *float64 `json:"momentum,omitempty"`
	Decay    *float64 `json:"decay,omitempty"`
	Nesterov *bool    `json:"nesterov,omitempty"`
}

// String is the overrides as JSON ({"lr":0.02}), or "" when there are none.
func (o Overrides) String() string {
	if o == (Overrides{}) {
		return ""
	}
	b, _ := json.Marshal(o)
	return string(b)
}

// ParseOverrides reads what String wrote ("" is no overrides).
func ParseOverrides(s string) (Overrides, error) {
	var o Overrides
	if s == "" {
		return o, nil
	}
	err := json.Unmarshal([]byte(s), &o)
	return o, err
}

// Apply writes the overrides into the recipe the code is generated from,
// after checking them (a positive LR; 0 <= momentum < 1; a non-negative
// decay; momentum and Nesterov with SGD only). The errors name the flags.
func (o Overrides) Apply(rc *dsl.Recipe) error {
	if o.LR != nil {
		if !(*o.LR > 0) {
			return fmt.Errorf("--lr %g: want a positive learning rate", *o.LR)
		}
		rc.LR = *o.LR
	}
	if o.Momentum != nil || o.Nesterov != nil {
		if rc.Optimizer != "sgd" {
			return fmt.Errorf("--momentum and --nesterov apply to sgd; the .cnn's optimizer is %s", rc.Optimizer)
		}
	}
	if o.Momentum != nil {
		if *o.Momentum < 0 || *o.Momentum >= 1 {
			return fmt.Errorf("--momentum %g: want 0 <= momentum < 1", *o.Momentum)
		}
		rc.Momentum = *o.Momentum
	}
	if o.Decay != nil {
		if *o.Decay < 0 {
			return fmt.Errorf("--decay %g: want a non-negative weight decay", *o.Decay)
		}
		rc.Decay = *o.Decay
	}
	if o.Nesterov != nil {
		rc.Nesterov = *o.Nesterov
	}
	return nil
}
