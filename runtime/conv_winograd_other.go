//go:build !amd64 || purego

package runtime

func winoBTFMA(*float32, *[6]int, *float32, int, int) { panic("runtime: winoBTFMA without amd64") }

func winoATFMA(*float32, *[6]int, *float32, int, int) { panic("runtime: winoATFMA without amd64") }

func winoDeint(*float32, int, *float32, int, *int32) { panic("runtime: winoDeint without amd64") }

func winoInt(*float32, int, int, *float32, *int32) { panic("runtime: winoInt without amd64") }
