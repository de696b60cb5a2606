"""Encoders and projection heads of SepCLR.

SepCLR uses two *separate* encoders, one for the common and one for the
salient space, each followed by a small projection head (Louiset et al.,
ICLR 2024, Sec. 4: ``d -> 128 -> BatchNorm -> ReLU -> d``). The estimator
returns the encoder outputs (the representations); the loss sees the head
outputs (the projections).
"""

import torch
from torch import nn

#: Width of the hidden layer of the projection heads (the paper's value).
HEAD_WIDTH = 128


def _mlp(sizes):
    """Linear -> BatchNorm -> ReLU blocks, then a last Linear layer."""
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(n_in, n_out), nn.BatchNorm1d(n_out), nn.ReLU()]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _MLPEncoder(nn.Module):
    """Tabular encoder: flattens its input, then an MLP with BatchNorm."""

    def __init__(self, n_features, n_out, hidden_layer_sizes=(256, 256)):
        super().__init__()
        self.body = _mlp([n_features, *hidden_layer_sizes, n_out])

    def forward(self, x):
        return self.body(x.flatten(start_dim=1))


def _projection_head(n_in, n_out):
    return _mlp([n_in, HEAD_WIDTH, n_out])


def _build_encoder(encoder, input_shape, n_out, hidden_layer_sizes):
    """Instantiate one encoder from the estimator's ``encoder`` parameter.

    Parameters
    ----------
    encoder : {"mlp", "cnn", "resnet18"} or callable
        A callable is called as ``encoder(input_shape, n_out)`` and must
        return an ``nn.Module`` mapping a batch of shape
        ``(n, *input_shape)`` to a tensor of shape ``(n, n_out)``.
    input_shape : tuple of int
        Shape of one sample: ``(n_features,)`` or ``(C, H, W)``.
    n_out : int
        Dimension of the representation.
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers of the MLP encoder.
    """
    if callable(encoder):
        module = encoder(tuple(input_shape), n_out)
        if not isinstance(module, nn.Module):
            raise TypeError(
                "encoder must return a torch.nn.Module when called as "
                f"encoder(input_shape, n_out); got {type(module).__name__}."
            )
        return module
    if encoder == "mlp":
        n_features = int(torch.Size(input_shape).numel())
        return _MLPEncoder(n_features, n_out, hidden_layer_sizes)
    if encoder in _IMAGE_ENCODERS:
        if len(input_shape) != 3:
            raise ValueError(
                f"encoder={encoder!r} needs images: pass X of shape "
                "(n, C, H, W) or set image_shape=(C, H, W); got samples of "
                f"shape {tuple(input_shape)}."
            )
        return _IMAGE_ENCODERS[encoder](input_shape, n_out)
    raise ValueError(
        "encoder must be 'mlp', 'cnn', 'resnet18' or a callable returning an "
        f"nn.Module; got {encoder!r}."
    )


class _SepCLRModule(nn.Module):
    """The two encoders and their projection heads.

    ``forward`` returns the representations ``(r_c, r_s)``; ``project``
    returns the projections ``(p_c, z_s)`` that the loss consumes (``p_c`` is
    normalised inside :func:`~sklearn_sepclr.losses.sepclr_loss`);
    ``encode_and_project`` returns both, as the training step needs them.
    """

    def __init__(self, common_encoder, salient_encoder, n_common, n_salient):
        super().__init__()
        self.common_encoder = common_encoder
        self.salient_encoder = salient_encoder
        self.common_head = _projection_head(n_common, n_common)
        self.salient_head = _projection_head(n_salient, n_salient)

    def forward(self, x):
        return self.common_encoder(x), self.salient_encoder(x)

    def project(self, x):
        return self.encode_and_project(x)[1]

    def encode_and_project(self, x):
        r_c, r_s = self(x)
        return (r_c, r_s), (self.common_head(r_c), self.salient_head(r_s))


def _conv_bn_relu(n_in, n_out, stride):
    """3x3 convolution -> BatchNorm -> ReLU (no conv bias: BatchNorm has one)."""
    return nn.Sequential(
        nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(n_out),
        nn.ReLU(inplace=True),
    )


def _global_average_pool(x):
    # A mean over the spatial axes, rather than a view-based flatten, works
    # whatever the memory format (channels_last included) and the image size.
    return x.mean(dim=(2, 3))


#: Channels of the ``cnn`` encoder's first four blocks; deeper blocks repeat
#: the last.
_CNN_WIDTHS = (32, 64, 128, 256)


def _cnn_n_blocks(image_size):
    """Fewest ``cnn`` blocks, at least four, that see ``image_size`` pixels.

    With 3x3 convolutions of strides 1, 2, 2, ..., ``n`` blocks have a
    receptive field of ``2**n + 1`` pixels: four see 17 (up to 17 px
    images), five see 33 (MNIST's 28 px, CIFAR's 32 px), six see 65.
    """
    n_blocks = len(_CNN_WIDTHS)
    while 2**n_blocks + 1 < image_size:
        n_blocks += 1
    return n_blocks


class _ConvEncoder(nn.Module):
    """Small conv net for images up to about 64 px (``encoder="cnn"``).

    3x3 conv blocks; every block after the first halves the resolution.
    There are as many blocks as it takes for the receptive field to cover
    the image, and at least four (:func:`_cnn_n_blocks`): four up to 17 px,
    five up to 33 px (1.0 M parameters against 0.4 M), six up to 65 px.
    The last map (at most 3x3) goes through a global average pool and a
    Linear layer to ``n_out``. Quick on a CPU, where the ResNet-18 (11 M)
    is not.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)``; any number of channels and any size, though below
        8 px the last blocks see a single pixel.
    n_out : int
        Dimension of the representation.
    widths : tuple of int or None, default=None
        Channels of each block. ``None``: 32, 64, 128, 256, then 256 for
        any further block, with as many blocks as ``strides`` gives or, if
        it is ``None`` too, as the image size needs.
    strides : tuple of int or None, default=None
        Stride of each block, one per width. ``None``: 1 for the first
        block and 2 for the others.
    """

    def __init__(self, input_shape, n_out, widths=None, strides=None):
        super().__init__()
        n_channels = input_shape[0]
        if widths is None:
            n_blocks = (
                len(strides) if strides is not None else _cnn_n_blocks(max(input_shape[1:]))
            )
            widths = _CNN_WIDTHS[:n_blocks] + _CNN_WIDTHS[-1:] * (n_blocks - len(_CNN_WIDTHS))
        if strides is None:
            strides = (1,) + (2,) * (len(widths) - 1)
        if len(strides) != len(widths):
            raise ValueError(
                f"strides must give one stride per block: {len(widths)} widths, "
                f"{len(strides)} strides."
            )
        self.features = nn.Sequential(
            *(
                _conv_bn_relu(n_in, n_width, stride)
                for n_in, n_width, stride in zip(
                    (n_channels, *widths[:-1]), widths, strides, strict=True
                )
            )
        )
        self.fc = nn.Linear(widths[-1], n_out)

    def forward(self, x):
        return self.fc(_global_average_pool(self.features(x)))


class _BasicBlock(nn.Module):
    """Residual block of ResNet-18/34: two 3x3 convs plus a shortcut."""

    def __init__(self, n_in, n_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)
        self.relu = nn.ReLU(inplace=True)
        # A 1x1 projection only where the shape changes (He et al. 2016, option B).
        self.shortcut = nn.Identity()
        if stride != 1 or n_in != n_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(n_in, n_out, 1, stride=stride, bias=False), nn.BatchNorm2d(n_out)
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class _ResNet18(nn.Module):
    """ResNet-18 (He et al., CVPR 2016), the paper's image backbone.

    Four stages of two :class:`_BasicBlock` each (64, 128, 256, 512
    channels), a global average pool and a Linear layer to ``n_out``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)``; any number of channels.
    n_out : int
        Dimension of the representation.
    small_input : bool or None, default=None
        Use the CIFAR stem (3x3 conv, stride 1, no max-pool) rather than the
        ImageNet one (7x7 conv, stride 2, then a 3x3 max-pool). The ImageNet
        stem divides the resolution by 4 before the first block, which
        leaves a 32 px image a 1x1 map at the last stage; that is why the
        SimCLR CIFAR experiments swap it. None picks the CIFAR stem when
        ``min(H, W) <= 32``.
    """

    widths = (64, 128, 256, 512)

    def __init__(self, input_shape, n_out, small_input=None):
        super().__init__()
        n_channels, height, width = input_shape
        if small_input is None:
            small_input = min(height, width) <= 32
        self.small_input = bool(small_input)
        if self.small_input:
            conv = nn.Conv2d(n_channels, 64, 3, stride=1, padding=1, bias=False)
            pool = nn.Identity()
        else:
            conv = nn.Conv2d(n_channels, 64, 7, stride=2, padding=3, bias=False)
            pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.stem = nn.Sequential(conv, nn.BatchNorm2d(64), nn.ReLU(inplace=True), pool)
        blocks = []
        for n_in, n_width, stride in zip(
            (64, *self.widths[:-1]), self.widths, (1, 2, 2, 2), strict=True
        ):
            blocks += [_BasicBlock(n_in, n_width, stride), _BasicBlock(n_width, n_width, 1)]
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(self.widths[-1], n_out)
        self._init_weights()

    def _init_weights(self):
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        # Zero-init the last BatchNorm of each residual branch, so every block
        # starts as the identity (Goyal et al. 2017): steadier early training
        # at the large batch sizes contrastive learning uses.
        for block in self.blocks:
            nn.init.zeros_(block.bn2.weight)

    def forward(self, x):
        return self.fc(_global_average_pool(self.blocks(self.stem(x))))


#: Image encoders by name, each called as ``factory((C, H, W), n_out)``.
_IMAGE_ENCODERS = {"cnn": _ConvEncoder, "resnet18": _ResNet18}
