package runtime

// EnforceVersion is how generated code pins the runtime it was generated
// for (the idea of protobuf's protoimpl.EnforceVersion). A generated file
// contains
//
//	const _ = runtime.EnforceVersion(V - runtime.MinVersion)
//	const _ = runtime.EnforceVersion(runtime.MaxVersion - V)
//
// for its contract version V: when the runtime no longer supports V, one of
// the constants is negative and the build fails with "constant overflows
// EnforceVersion" at that line, instead of misbehaving at run time.
type EnforceVersion uint

// The contract versions of generated code this runtime supports.
const (
	MinVersion = 3
	MaxVersion = 3
)
