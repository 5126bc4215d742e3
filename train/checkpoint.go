package train

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/safetensors"
)

// CheckpointFormat is the value of a checkpoint's "format" metadata key.
const CheckpointFormat = "cnnc-checkpoint/1"

// optimPrefix prefixes the optimizer's tensors in a checkpoint.
const optimPrefix = "optim."

// Metadata keys of a checkpoint (all values are strings, as safetensors
// requires; see the package doc).
const (
	metaFormat     = "format"
	metaNetwork    = "network"
	metaSource     = "source"
	metaSourcePath = "source_path"
	metaOverrides  = "overrides"
	metaEpoch      = "epoch"
	metaSchedule   = "schedule"
	metaOptimStep  = "optim_step"
	metaLoader     = "loader"
	metaDropout    = "dropout_rng"
	metaRun        = "run"
	metaHistory    = "history"
	metaTestAcc    = "test_accuracy"
)

// runInfo is the part of the configuration that a resumed run must share
// with the run that wrote the checkpoint.
type runInfo struct {
	Data       string     `json:"data"`
	Batch      int        `json:"batch"`
	Seed       uint64     `json:"seed"`
	Augment    rt.Augment `json:"augment"`
	Subset     int        `json:"subset,omitempty"`
	MaxBatches int        `json:"max_batches,omitempty"`
	Val        int        `json:"val,omitempty"`
}

// Checkpoint is a checkpoint file read and validated.
type Checkpoint struct {
	Path  string
	Meta  map[string]string
	Epoch int
	file  *safetensors.File
}

// ReadCheckpoint reads a checkpoint written by Run, or a weights file written
// by a generated Net's Save (which has no training state: Epoch is 0 and
// IsCheckpoint false).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := safetensors.Load(path)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Path: path, Meta: f.Meta, file: f}
	if c.IsCheckpoint() {
		if c.Epoch, err = strconv.Atoi(f.Meta[metaEpoch]); err != nil || c.Epoch < 0 {
			return nil, fmt.Errorf("%s: bad %s %q in the metadata", path, metaEpoch, f.Meta[metaEpoch])
		}
	} else if v, ok := f.Meta[metaFormat]; ok {
		return nil, fmt.Errorf("%s: checkpoint format %q, this cnnc reads %q", path, v, CheckpointFormat)
	}
	return c, nil
}

// IsCheckpoint says whether the file has the training state of a checkpoint.
func (c *Checkpoint) IsCheckpoint() bool { return c.Meta[metaFormat] == CheckpointFormat }

// Source returns the .cnn text (and its path when trained) and the
// command-line overrides compiled in, as recorded by Run.
func (c *Checkpoint) Source() (src, path, overrides string) {
	return c.Meta[metaSource], c.Meta[metaSourcePath], c.Meta[metaOverrides]
}

// LoadWeights copies every tensor of m from the file. Names and shapes must
// match exactly; on any mismatch nothing is written and the error lists
// every difference.
func (c *Checkpoint) LoadWeights(m *rt.Net) error {
	var problems []string
	for _, t := range m.Tensors() {
		info, ok := c.file.Info(t.Name)
		if !ok {
			problems = append(problems, t.Name+": missing")
			continue
		}
		if !slices.Equal(info.Shape, t.Shape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v in the file, the network wants %v", t.Name, info.Shape, t.Shape))
		}
	}
	own := map[string]bool{}
	for _, t := range m.Tensors() {
		own[t.Name] = true
	}
	for _, n := range c.file.Names() {
		if !own[n] && !strings.HasPrefix(n, optimPrefix) {
			problems = append(problems, n+": in the file, not in the network")
		}
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("and %d more", len(problems)-10))
		}
		return fmt.Errorf("%s does not fit the network:\n  %s", c.Path, strings.Join(problems, "\n  "))
	}
	for _, t := range m.Tensors() {
		v, err := c.file.Get(t.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Path, err)
		}
		copy(t.Data, v.Data)
	}
	m.ParamsChanged()
	return nil
}

// restore puts the whole training state of the checkpoint into m and l.
func (c *Checkpoint) restore(m *rt.Net, l *data.Loader) error {
	if !c.IsCheckpoint() {
		return fmt.Errorf("%s: a weights file, not a checkpoint: it has no training state to resume", c.Path)
	}
	if err := c.LoadWeights(m); err != nil {
		return err
	}
	bad := func(key string, err error) error {
		return fmt.Errorf("%s: bad %s in the metadata: %v", c.Path, key, err)
	}
	st := rt.OptimState{Tensors: map[string][]float32{}}
	step, err := strconv.ParseInt(c.Meta[metaOptimStep], 10, 64)
	if err != nil {
		return bad(metaOptimStep, err)
	}
	st.Step = step
	for _, n := range c.file.Names() {
		if k, ok := strings.CutPrefix(n, optimPrefix); ok {
			t, err := c.file.Get(n)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Path, err)
			}
			st.Tensors[k] = t.Data
		}
	}
	if err := m.SetOptimizerState(st); err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	var sched rt.TrainState
	if err := json.Unmarshal([]byte(c.Meta[metaSchedule]), &sched); err != nil {
		return bad(metaSchedule, fmt.Errorf("schedule state: %w", err))
	}
	m.SetState(sched)
	rng, err := hex.DecodeString(c.Meta[metaDropout])
	if err != nil {
		return bad(metaDropout, err)
	}
	if err := m.SetDropoutRNGState(rng); err != nil {
		return bad(metaDropout, err)
	}
	var ls data.LoaderState
	if err := ls.UnmarshalText([]byte(c.Meta[metaLoader])); err != nil {
		return bad(metaLoader, err)
	}
	if err := l.Restore(ls); err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	return nil
}

func (c *Checkpoint) history() ([]EpochLog, error) {
	var h []EpochLog
	if err := json.Unmarshal([]byte(c.Meta[metaHistory]), &h); err != nil {
		return nil, fmt.Errorf("%s: bad %s in the metadata: %v", c.Path, metaHistory, err)
	}
	return h, nil
}

func (c *Checkpoint) runInfo() (runInfo, error) {
	var r runInfo
	if err := json.Unmarshal([]byte(c.Meta[metaRun]), &r); err != nil {
		return r, fmt.Errorf("%s: bad %s in the metadata: %v", c.Path, metaRun, err)
	}
	return r, nil
}

// writeFunc writes a file atomically; tests replace it to fill the disk.
type writeFunc func(path string, write func(io.Writer) error) error

// saveCheckpoint writes the whole training state of m and l to path,
// atomically: the previous file stays intact on any error.
func saveCheckpoint(write writeFunc, path string, spec *Spec, m *rt.Net, l *data.Loader, run runInfo, hist []EpochLog) error {
	ts := make([]safetensors.Tensor, 0, len(m.Tensors()))
	for _, t := range m.Tensors() {
		ts = append(ts, safetensors.Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data})
	}
	os := m.OptimizerState()
	keys := make([]string, 0, len(os.Tensors))
	for k := range os.Tensors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := os.Tensors[k]
		ts = append(ts, safetensors.Tensor{Name: optimPrefix + k, Shape: []int{len(v)}, Data: v})
	}
	sched, err := json.Marshal(m.State())
	if err != nil {
		return err
	}
	rng, err := m.DropoutRNGState()
	if err != nil {
		return err
	}
	ls, err := l.State().MarshalText()
	if err != nil {
		return err
	}
	runJSON, err := json.Marshal(run)
	if err != nil {
		return err
	}
	histJSON, err := json.Marshal(hist)
	if err != nil {
		return err
	}
	epoch, acc := 0, ""
	if len(hist) > 0 {
		last := hist[len(hist)-1]
		epoch, acc = last.Epoch, strconv.FormatFloat(last.TestAcc, 'f', -1, 64)
	}
	meta := map[string]string{
		metaFormat:     CheckpointFormat,
		metaNetwork:    spec.Program.Name,
		metaSource:     spec.Source,
		metaSourcePath: spec.SourcePath,
		metaOverrides:  spec.Overrides,
		metaEpoch:      strconv.Itoa(epoch),
		metaSchedule:   string(sched),
		metaOptimStep:  strconv.FormatInt(os.Step, 10),
		metaLoader:     string(ls),
		metaDropout:    hex.EncodeToString(rng),
		metaRun:        string(runJSON),
		metaHistory:    string(histJSON),
		metaTestAcc:    acc,
	}
	err = write(path, func(w io.Writer) error { return safetensors.Encode(w, ts, meta) })
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	return nil
}
