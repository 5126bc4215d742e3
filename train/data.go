package train

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	rt "github.com/cnnc-dev/cnnc/runtime"
	"github.com/cnnc-dev/cnnc/runtime/data"
)

// LoadData loads the training and test sets named by spec for a network of
// input h x w x c and the given classes:
//
//	mnist                                   MNIST from data.MNISTDir (MNISTNorm)
//	idx:IMAGES,LABELS[,TESTIMAGES,TESTLABELS]  idx files (MNISTNorm for 1 channel, ImageNetNorm for 3)
//	folder:DIR                              DIR/train/<class>/*.png and DIR/test/<class>/*.png
//
// Without test files an idx data set has no test set (test is nil). MNIST's
// 28x28 digits are centred on a black canvas when the network wants a larger
// gray input (LeNet-5's original 32x32).
func LoadData(spec string, h, w, c, classes int) (trainSet, testSet *data.Dataset, err error) {
	shape := data.Shape{C: c, H: h, W: w}
	opt := data.Options{Shape: shape, Classes: classes, Norm: data.NormFor(c)}
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "mnist":
		if arg != "" {
			return nil, nil, fmt.Errorf("--data %q: mnist takes no argument (set $%s for another directory)", spec, data.MNISTDirEnv)
		}
		if c != 1 || h < 28 || w < 28 || classes != 10 {
			return nil, nil, fmt.Errorf("--data mnist: MNIST is 28x28x1 with 10 classes, the network wants %dx%dx%d with %d", h, w, c, classes)
		}
		if trainSet, err = data.LoadMNIST("", true); err != nil {
			return nil, nil, err
		}
		if testSet, err = data.LoadMNIST("", false); err != nil {
			return nil, nil, err
		}
		if h != 28 || w != 28 {
			if trainSet, err = trainSet.PadTo(h, w); err != nil {
				return nil, nil, err
			}
			if testSet, err = testSet.PadTo(h, w); err != nil {
				return nil, nil, err
			}
		}
		return trainSet, testSet, nil
	case "idx":
		files := strings.Split(arg, ",")
		if len(files) != 2 && len(files) != 4 || arg == "" {
			return nil, nil, fmt.Errorf("--data %q: want idx:IMAGES,LABELS or idx:IMAGES,LABELS,TESTIMAGES,TESTLABELS", spec)
		}
		if trainSet, err = data.LoadIDX(files[0], files[1], opt); err != nil {
			return nil, nil, err
		}
		if len(files) == 4 {
			if testSet, err = data.LoadIDX(files[2], files[3], opt); err != nil {
				return nil, nil, err
			}
		}
		return trainSet, testSet, nil
	case "folder":
		if arg == "" {
			return nil, nil, fmt.Errorf("--data %q: want folder:DIR (with DIR/train and DIR/test)", spec)
		}
		if trainSet, err = data.LoadImageFolder(filepath.Join(arg, "train"), opt); err != nil {
			return nil, nil, err
		}
		if testSet, err = data.LoadImageFolder(filepath.Join(arg, "test"), opt); err != nil {
			return nil, nil, err
		}
		if strings.Join(trainSet.Names, "\x00") != strings.Join(testSet.Names, "\x00") {
			return nil, nil, fmt.Errorf("--data %q: train classes %v differ from test classes %v", spec, trainSet.Names, testSet.Names)
		}
		return trainSet, testSet, nil
	}
	return nil, nil, fmt.Errorf("--data %q: want mnist, idx:IMAGES,LABELS[,TESTIMAGES,TESTLABELS] or folder:DIR", spec)
}

// ParseAugment reads an augment setting in the .cnn's words: "none" or any
// of "crop N", "pad N", "translate N", "mirror", separated by spaces or
// commas ("pad 2 mirror", "translate=2,mirror").
func ParseAugment(s string) (rt.Augment, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '=' })
	var a rt.Augment
	if len(f) == 1 && f[0] == "none" {
		return a, nil
	}
	if len(f) == 0 {
		return a, fmt.Errorf("--augment %q: want none or [crop N] [pad N] [translate N] [mirror]", s)
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "mirror":
			a.Mirror = true
			continue
		case "crop", "pad", "translate":
		default:
			return a, fmt.Errorf("--augment %q: unknown %q, want none or [crop N] [pad N] [translate N] [mirror]", s, f[i])
		}
		if i+1 >= len(f) {
			return a, fmt.Errorf("--augment %q: %s needs a number", s, f[i])
		}
		n, err := strconv.Atoi(f[i+1])
		if err != nil || n < 0 {
			return a, fmt.Errorf("--augment %q: %s %q is not a non-negative integer", s, f[i], f[i+1])
		}
		switch f[i] {
		case "crop":
			a.Crop = n
		case "pad":
			a.Pad = n
		case "translate":
			a.Translate = n
		}
		i++
	}
	return a, nil
}

// augmentString writes a in the .cnn's words.
func augmentString(a rt.Augment) string {
	var p []string
	if a.Crop > 0 {
		p = append(p, "crop "+strconv.Itoa(a.Crop))
	}
	if a.Pad > 0 {
		p = append(p, "pad "+strconv.Itoa(a.Pad))
	}
	if a.Translate > 0 {
		p = append(p, "translate "+strconv.Itoa(a.Translate))
	}
	if a.Mirror {
		p = append(p, "mirror")
	}
	if len(p) == 0 {
		return "none"
	}
	return strings.Join(p, " ")
}

// loaderAugment maps the .cnn's augmentation onto runtime/data's for h x w
// images: a crop (of the input size) after padding by Pad, or a translation
// by up to Translate pixels, are both a shift; the larger one wins.
func loaderAugment(a rt.Augment, h, w int) (data.Augment, error) {
	if a.Crop != 0 && (a.Crop != h || a.Crop != w) {
		return data.Augment{}, fmt.Errorf("augment crop %d: images are loaded at the network's input size %dx%d and never resized, so a crop must be %d (with pad P for random shifts)", a.Crop, h, w, h)
	}
	return data.Augment{Pad: max(a.Pad, a.Translate), Mirror: a.Mirror}, nil
}
