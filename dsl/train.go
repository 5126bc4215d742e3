package dsl

import (
	"github.com/alecthomas/participle/v2/lexer"

	"math"
	"sort"
	"strings"

	"github.com/cnnc-dev/cnnc/grammar"
	rt "github.com/cnnc-dev/cnnc/runtime"
)

// settingUsage is the form of every train setting, for hints.
var settingUsage = map[string]string{
	"batch":    "batch N",
	"epochs":   "epochs N",
	"seed":     "seed N",
	"sgd":      "sgd [lr X] [momentum X] [decay X] [nesterov]",
	"adam":     "adam [lr X] [beta1 X] [beta2 X] [eps X] [decay X]",
	"schedule": "schedule none | plateau [divide X] [patience N] | every N [divide X] | at N N... [divide X]",
	"init":     "init default | gaussian STD | xavier | he",
	"augment":  "augment none | [crop N] [pad N] [translate N] [mirror]",
}

// SettingUsage is the form of every train setting, by key (for editors).
func SettingUsage() map[string]string {
	m := make(map[string]string, len(settingUsage))
	for k, v := range settingUsage {
		m[k] = v
	}
	return m
}

func settingKeys() string {
	var ks []string
	for k := range settingUsage {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// settingArgs reads key-value arguments of one setting.
type settingArgs struct {
	*layerArgs
}

// value takes `key X` and returns X.
func (s settingArgs) value(key string, lo, hi float64, loOpen bool) (float64, bool) {
	return s.valueIn(key, lo, hi, loOpen, false)
}

// valueIn is value with a choice of an open upper bound too.
func (s settingArgs) valueIn(key string, lo, hi float64, loOpen, hiOpen bool) (float64, bool) {
	if i, _ := s.keyed(key); i >= 0 {
		v := s.args[i]
		if v.num < lo || v.num > hi || (loOpen && v.num == lo) || (hiOpen && v.num == hi) {
			open, close := "[", "]"
			if loOpen {
				open = "("
			}
			if hiOpen {
				close = ")"
			}
			s.errorf(v, "%s: %s must be in %s%s, %s%s, found %s", s.layer, key, open, fmtNum(lo), fmtNum(hi), close, fmtNum(v.num))
			return 0, false
		}
		return v.num, true
	}
	return 0, false
}

// count takes the next positional whole number >= min.
func (s settingArgs) count(min int, what string) (int, bool) {
	a, ok := s.positional()
	if !ok {
		return 0, false
	}
	if !a.ok {
		return 0, false
	}
	return s.integer(a, a.num, min, what)
}

func (r *resolver) train(t *grammar.Train) {
	rc := &r.net.Train
	for _, st := range t.Settings {
		p, end := span(st.Tokens)
		keyEnd := st.Pos
		keyEnd.Column += len(st.Key)
		usage, known := settingUsage[st.Key]
		if !known {
			hint := "settings: " + settingKeys()
			if c := closest(st.Key, strings.Split(settingKeys(), ", ")); c != "" {
				hint = "did you mean " + c + "? " + hint
			}
			r.errorf(st.Pos, keyEnd, hint, "unknown train setting %q", st.Key)
			continue
		}
		if prev, dup := r.setBefore(st.Key); dup {
			r.errorf(st.Pos, keyEnd, "", "train: %s set twice (first at %d:%d)", st.Key, prev.Line, prev.Column)
			continue
		}
		rc.Set[st.Key] = st.Pos
		s := settingArgs{r.newLayerArgs(newScope(""), st.Key, st.Args)}
		s.layer, s.usage = "train: "+st.Key, usage
		switch st.Key {
		case "batch", "epochs", "seed":
			v, good := s.count(1, "the value")
			if !good && !s.bad {
				r.errorf(p, end, "the form is: "+usage, "train: %s needs a whole number", st.Key)
				s.bad = true
			}
			switch st.Key {
			case "batch":
				rc.Batch = v
			case "epochs":
				rc.Epochs = v
			case "seed":
				rc.Seed = uint64(v)
			}
		case "sgd":
			rc.Optimizer = "sgd"
			if v, good := s.value("lr", 0, 10, true); good {
				rc.LR = v
			}
			if v, good := s.value("momentum", 0, 1, false); good {
				rc.Momentum = v
			}
			if v, good := s.value("decay", 0, 1, false); good {
				rc.Decay = v
			}
			rc.Nesterov = s.word("nesterov")
		case "adam":
			rc.Optimizer, rc.LR, rc.Momentum, rc.Decay = "adam", 1e-3, 0, 0
			if v, good := s.value("lr", 0, 10, true); good {
				rc.LR = v
			}
			if v, good := s.valueIn("beta1", 0, 1, false, true); good {
				rc.Beta1 = v
			}
			if v, good := s.valueIn("beta2", 0, 1, false, true); good {
				rc.Beta2 = v
			}
			if v, good := s.value("eps", 0, 1, true); good {
				rc.Eps = v
			}
			if v, good := s.value("decay", 0, 1, false); good {
				rc.Decay = v
			}
		case "schedule":
			r.schedule(s)
		case "init":
			switch {
			case s.word("default"):
				rc.Init = rt.InitRecipe{Kind: "default"}
			case s.word("xavier"):
				rc.Init = rt.InitRecipe{Kind: "xavier"}
			case s.word("he"):
				rc.Init = rt.InitRecipe{Kind: "he"}
			case s.word("gaussian"):
				rc.Init = rt.InitRecipe{Kind: "gaussian", Std: 0.01}
				if a, good := s.positional(); good && a.ok {
					if a.num <= 0 || math.IsInf(a.num, 0) {
						s.errorf(a, "train: init gaussian: the standard deviation must be positive")
					}
					rc.Init.Std = a.num
				}
			default:
				r.errorf(p, end, "the form is: "+usage, "train: init needs a method")
				s.bad = true
			}
		case "augment":
			if s.word("none") {
				rc.Augment = rt.Augment{}
				break
			}
			for _, kv := range []struct {
				key string
				dst *int
				min int
			}{{"crop", &rc.Augment.Crop, 1}, {"pad", &rc.Augment.Pad, 0}, {"translate", &rc.Augment.Translate, 1}} {
				if v, good := s.value(kv.key, float64(kv.min), MaxNumber, false); good {
					if v != math.Trunc(v) {
						r.errorf(p, end, "", "train: augment %s must be a whole number", kv.key)
						continue
					}
					*kv.dst = int(v)
				}
			}
			rc.Augment.Mirror = s.word("mirror")
		}
		s.done()
	}
}

// setBefore returns where the file set key before; sgd and adam are one
// setting, the optimizer.
func (r *resolver) setBefore(key string) (lexer.Position, bool) {
	keys := []string{key}
	if key == "sgd" || key == "adam" {
		keys = []string{"sgd", "adam"}
	}
	for _, k := range keys {
		if p, ok := r.net.Train.Set[k]; ok {
			return p, true
		}
	}
	return lexer.Position{}, false
}

func (r *resolver) schedule(s settingArgs) {
	rc := &r.net.Train
	sch := rt.Schedule{Divide: 10, Patience: 1}
	// divide first, so that its value is not taken for a milestone.
	if v, ok := s.value("divide", 1, 1e6, true); ok {
		sch.Divide = v
	}
	switch {
	case s.word("none"):
		sch.Kind = "none"
	case s.word("plateau"):
		sch.Kind = "plateau"
		if v, ok := s.value("patience", 0, 1000, false); ok {
			sch.Patience = int(v)
		}
	case s.word("every"):
		sch.Kind = "every"
		if v, ok := s.count(1, "the step in epochs"); ok {
			sch.Every = v
		} else if !s.bad {
			s.bad = true
			r.errorf(s.args[0].pos, s.args[0].end, "the form is: "+settingUsage["schedule"], "train: schedule every needs a number of epochs")
		}
	case s.word("at"):
		sch.Kind = "at"
		last := 0
		for {
			a, ok := s.positional()
			if !ok {
				break
			}
			v, ok := s.integer(a, a.num, 1, "a milestone epoch")
			if !ok {
				continue
			}
			if v <= last {
				s.errorf(a, "train: schedule at: milestones must increase (%d after %d)", v, last)
			}
			last = v
			sch.At = append(sch.At, v)
		}
		if len(sch.At) == 0 && !s.bad {
			s.bad = true
			r.errorf(s.args[0].pos, s.args[0].end, "the form is: "+settingUsage["schedule"], "train: schedule at needs the epochs to divide at, for example: schedule at 30 60")
		}
	default:
		for i := range s.used {
			s.used[i] = true
		}
		if len(s.args) > 0 {
			r.errorf(s.args[0].pos, s.args[0].end, "the form is: "+settingUsage["schedule"], "train: unknown schedule %s", s.args[0].text)
		}
		s.bad = true
		return
	}
	rc.Schedule = sch
}
