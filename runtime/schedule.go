package runtime

// The schedule and the checkpointed training state of a Net.

// OptimizerState returns the optimizer's state, for checkpoints.
func (n *Net) OptimizerState() OptimState {
	n.ensureTrain()
	return n.opt.State()
}

// SetOptimizerState restores a state from OptimizerState.
func (n *Net) SetOptimizerState(s OptimState) error {
	n.ensureTrain()
	return n.opt.SetState(s)
}

// State returns the schedule's state; SetState restores it.
func (n *Net) State() TrainState { return n.state }

// SetState restores a state from State.
func (n *Net) SetState(s TrainState) { n.state = s }

// LR is the current learning rate.
func (n *Net) LR() float64 { return n.state.LR }

// SetLR changes the learning rate, and makes it the rate the schedule
// starts from (step schedules divide it, the plateau schedule reduces from
// it).
func (n *Net) SetLR(lr float64) {
	n.state.LR, n.state.BaseLR, n.state.Plateau.LR = lr, lr, lr
}

// EndEpoch records the end of an epoch with its validation metric
// (accuracy) and applies the recipe's schedule; it returns the learning
// rate of the next epoch.
func (n *Net) EndEpoch(metric float64) float64 {
	s, sch := &n.state, n.p.Recipe.Schedule
	s.Epoch++
	switch sch.Kind {
	case "plateau":
		s.LR = s.Plateau.Step(metric)
	case "every", "at":
		s.LR = StepLR{Gamma: 1 / sch.Divide, StepSize: sch.Every, Milestones: sch.At}.LR(s.BaseLR, s.Epoch)
	}
	return s.LR
}

// DropoutRNGState returns the state of the dropout masks' random stream,
// for checkpoints; SetDropoutRNGState restores it.
func (n *Net) DropoutRNGState() ([]byte, error) {
	n.ensureTrain()
	return n.m.RNG.MarshalBinary()
}

// SetDropoutRNGState restores a state from DropoutRNGState.
func (n *Net) SetDropoutRNGState(b []byte) error {
	n.ensureTrain()
	return n.m.RNG.UnmarshalBinary(b)
}

// FreezeDropoutMasks makes training forwards reuse the dropout masks of the
// last one, for gradient checks.
func (n *Net) FreezeDropoutMasks(frozen bool) { n.m.Frozen = frozen }
