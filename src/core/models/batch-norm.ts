/**
 * Batch normalisation over the channel (last) axis whose training-mode forward and backward are
 * one op each. tfjs-layers' `BatchNormalization` builds training mode out of `moments` and
 * `batchNorm`, whose gradient tiles the per-channel statistics to the full activation shape and
 * makes a dozen full-size elementwise passes; here the backward is the closed form
 *
 *   xhat = (x - mean) / sqrt(var + eps)
 *   dbeta = sum(dy), dgamma = sum(dy * xhat)
 *   dx = gamma / sqrt(var + eps) / M * (M * dy - dbeta - xhat * dgamma)      (M values per channel)
 *
 * computed by the native kernels on the wasm backend (`TfkdBatchNormTrain[Grad]`, see
 * backend/native-kernels.ts) and by broadcasting tf ops on every other backend. A ReLU or ReLU6 can
 * be fused (`activation`), so its mask is applied inside the same passes.
 *
 * Numerically the layer is tfjs-layers' `BatchNormalization` (axis -1, center and scale): training
 * uses the batch's mean and biased variance, inference the moving statistics, which training updates
 * as moving -= (moving - batch) * (1 - momentum). Same weights in the same order (gamma, beta,
 * moving_mean, moving_variance), so checkpoints keep their shape and names.
 */
import * as tf from '@tensorflow/tfjs-core'
import * as tfl from '@tensorflow/tfjs-layers'

/** Kernel names registered by backend/native-kernels.ts (kept here so no import cycle forms). */
const TRAIN = 'TfkdBatchNormTrain'
const TRAIN_GRAD = 'TfkdBatchNormTrainGrad'

export type BatchNormActivation = 'linear' | 'relu' | 'relu6'

export interface BatchNormArgs {
  name?: string
  momentum?: number
  epsilon?: number
  activation?: BatchNormActivation
  trainable?: boolean
  inputShape?: tfl.Shape
}

function hasNativeKernels(): boolean {
  const backend = tf.getBackend()
  return tf.getKernel(TRAIN, backend) != null && tf.getKernel(TRAIN_GRAD, backend) != null
}

function applyActivation(y: tf.Tensor, activation: BatchNormActivation): tf.Tensor {
  if (activation === 'relu') return tf.relu(y)
  if (activation === 'relu6') return tf.relu6(y)
  return y
}

/**
 * Training-mode batch norm of x ([..., C]) with the given gamma and beta ([C]): returns y (with the
 * activation applied) and the batch mean and biased variance ([C]; the caller disposes them). The
 * gradient reaches x, gamma and beta.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  activation: BatchNormActivation = 'linear',
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const axes = x.shape.slice(0, -1).map((_, i) => i)
  const count = tf.util.sizeFromShape(x.shape.slice(0, -1))
  let mean: tf.Tensor1D | null = null
  let variance: tf.Tensor1D | null = null
  const native = hasNativeKernels() && x.dtype === 'float32'
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, g, b] = args as tf.Tensor[]
    const save = args[3] as tf.GradSaveFunc
    let y: tf.Tensor
    let m: tf.Tensor1D
    let v: tf.Tensor1D
    if (native) {
      ;[y, m, v] = tf.engine().runKernel(
        TRAIN,
        { x: xi!, gamma: g!, beta: b! },
        {
          epsilon,
          activation,
        },
      ) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D]
    } else {
      m = tf.mean(xi!, axes)
      const centered = tf.sub(xi!, m)
      v = tf.mean(tf.square(centered), axes)
      const scale = tf.mul(tf.rsqrt(tf.add(v, epsilon)), g!)
      y = applyActivation(tf.add(tf.mul(centered, scale), b!), activation)
    }
    mean = tf.keep(m)
    variance = tf.keep(v)
    save(activation === 'linear' ? [xi!, g!, m, v] : [xi!, g!, m, v, y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv, sy] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor?]
        if (native) {
          const inputs: tf.NamedTensorMap = { dy, x: sx, mean: sm, variance: sv, gamma: sg }
          if (sy) inputs.y = sy
          return tf.engine().runKernel(TRAIN_GRAD, inputs, {
            epsilon,
            activation,
          }) as tf.Tensor[]
        }
        let gy = dy
        if (activation === 'relu') gy = tf.mul(dy, tf.step(sy!))
        else if (activation === 'relu6')
          gy = tf.where(tf.logicalAnd(tf.greater(sy!, 0), tf.less(sy!, 6)), dy, tf.zerosLike(dy))
        const invstd = tf.rsqrt(tf.add(sv, epsilon))
        const xhat = tf.mul(tf.sub(sx, sm), invstd)
        const dbeta = tf.sum(gy, axes)
        const dgamma = tf.sum(tf.mul(gy, xhat), axes)
        const k = tf.div(tf.mul(sg, invstd), count)
        const dx = tf.mul(k, tf.sub(tf.sub(tf.mul(gy, count), dbeta), tf.mul(xhat, dgamma)))
        return [dx, dgamma, dbeta]
      },
    }
  })
  const y = op(x, gamma, beta)
  return { y, mean: mean!, variance: variance! }
}

/** tfjs-layers' BatchNormalization (axis -1, center, scale) with a one-op training mode; see above. */
export class BatchNorm extends tfl.layers.Layer {
  static className = 'TfkdBatchNormalization'
  readonly momentum: number
  readonly epsilon: number
  readonly activation: BatchNormActivation
  private gamma!: tfl.LayerVariable
  private beta!: tfl.LayerVariable
  private movingMean!: tfl.LayerVariable
  private movingVariance!: tfl.LayerVariable

  constructor(args: BatchNormArgs = {}) {
    super(args)
    this.supportsMasking = true
    this.momentum = args.momentum ?? 0.99
    this.epsilon = args.epsilon ?? 1e-3
    this.activation = args.activation ?? 'linear'
    if (!['linear', 'relu', 'relu6'].includes(this.activation))
      throw new Error(`${BatchNorm.className}: unsupported activation "${this.activation}"`)
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape
    const dim = shape[shape.length - 1]
    if (dim == null) throw new Error(`${this.name}: the channel axis needs a defined size`)
    this.gamma = this.addWeight('gamma', [dim], 'float32', tfl.initializers.ones(), undefined, true)
    this.beta = this.addWeight('beta', [dim], 'float32', tfl.initializers.zeros(), undefined, true)
    this.movingMean = this.addWeight(
      'moving_mean',
      [dim],
      'float32',
      tfl.initializers.zeros(),
      undefined,
      false,
    )
    this.movingVariance = this.addWeight(
      'moving_variance',
      [dim],
      'float32',
      tfl.initializers.ones(),
      undefined,
      false,
    )
    this.built = true
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs
      if (!kwargs.training) {
        const y = tf.batchNorm(
          x,
          this.movingMean.read(),
          this.movingVariance.read(),
          this.beta.read(),
          this.gamma.read(),
          this.epsilon,
        )
        return applyActivation(y, this.activation)
      }
      const { y, mean, variance } = batchNormTrain(
        x,
        this.gamma.read(),
        this.beta.read(),
        this.epsilon,
        this.activation,
      )
      // As tfjs-layers: moving -= (moving - batch) * (1 - momentum), outside the gradient's reach.
      const decay = 1 - this.momentum
      for (const [variable, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const orig = variable.read()
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)))
        })
      }
      tf.dispose([mean, variance])
      return y
    })
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      momentum: this.momentum,
      epsilon: this.epsilon,
      activation: this.activation,
    }
  }
}

tf.serialization.registerClass(BatchNorm)
