// Package gen holds the Go packages cnnc generates for every network of
// networks/, one package per network. They are regenerated with
// `go generate ./gen/` and committed; a test fails when one is stale.
package gen

//go:generate go run ../cmd/cnnc gen -o lenet5 -pkg lenet5 ../networks/lenet5.cnn
//go:generate go run ../cmd/cnnc gen -o alexnet -pkg alexnet ../networks/alexnet.cnn
//go:generate go run ../cmd/cnnc gen -o zfnet -pkg zfnet ../networks/zfnet.cnn
//go:generate go run ../cmd/cnnc gen -o vgg16 -pkg vgg16 ../networks/vgg16.cnn
//go:generate go run ../cmd/cnnc gen -o vgg19 -pkg vgg19 ../networks/vgg19.cnn
//go:generate go run ../cmd/cnnc gen -o googlenet -pkg googlenet ../networks/googlenet.cnn
//go:generate go run ../cmd/cnnc gen -o resnet18 -pkg resnet18 ../networks/resnet18.cnn
//go:generate go run ../cmd/cnnc gen -o resnet34 -pkg resnet34 ../networks/resnet34.cnn
//go:generate go run ../cmd/cnnc gen -o resnet50 -pkg resnet50 ../networks/resnet50.cnn
//go:generate go run ../cmd/cnnc gen -o resnet101 -pkg resnet101 ../networks/resnet101.cnn
//go:generate go run ../cmd/cnnc gen -o resnet152 -pkg resnet152 ../networks/resnet152.cnn
//go:generate go run ../cmd/cnnc gen -o inception_naive -pkg inception_naive ../networks/inception_naive.cnn
//go:generate go run ../cmd/cnnc gen -o inception_bottleneck -pkg inception_bottleneck ../networks/inception_bottleneck.cnn
//go:generate go run ../cmd/cnnc gen -o densenet121 -pkg densenet121 ../networks/densenet121.cnn
//go:generate go run ../cmd/cnnc gen -o convnext_tiny -pkg convnext_tiny ../networks/convnext_tiny.cnn
//go:generate go run ../cmd/cnnc gen -o mobilenet_v2 -pkg mobilenet_v2 ../networks/mobilenet_v2.cnn
//go:generate go run ../cmd/cnnc gen -o mobilenet_v3_large -pkg mobilenet_v3_large ../networks/mobilenet_v3_large.cnn
//go:generate go run ../cmd/cnnc gen -o efficientnet_b0 -pkg efficientnet_b0 ../networks/efficientnet_b0.cnn
//go:generate go run ../cmd/cnnc gen -o shufflenet_v2_x1_0 -pkg shufflenet_v2_x1_0 ../networks/shufflenet_v2_x1_0.cnn

// Small networks that together exercise every construct, for the
// whole-network gradient checks of their generated tests.
//go:generate go run ../cmd/cnnc gen -o testnets/mini_alexnet -pkg mini_alexnet ../testdata/nets/mini_alexnet.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_inception -pkg mini_inception ../testdata/nets/mini_inception.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_resnet -pkg mini_resnet ../testdata/nets/mini_resnet.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_wino -pkg mini_wino ../testdata/nets/mini_wino.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_misc -pkg mini_misc ../testdata/nets/mini_misc.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_norm -pkg mini_norm ../testdata/nets/mini_norm.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_act -pkg mini_act ../testdata/nets/mini_act.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_lang -pkg mini_lang ../testdata/nets/mini_lang.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_dw -pkg mini_dw ../testdata/nets/mini_dw.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_densenext -pkg mini_densenext ../testdata/nets/mini_densenext.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_mobile -pkg mini_mobile ../testdata/nets/mini_mobile.cnn
//go:generate go run ../cmd/cnnc gen -o testnets/mini_eff -pkg mini_eff ../testdata/nets/mini_eff.cnn
