package grammar

// Format prints f in canonical form.
func Format(f *File) []byte { return nil }
