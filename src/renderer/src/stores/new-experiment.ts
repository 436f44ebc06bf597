/**
 * The New experiment form as typed, kept for the session: leaving the view (to look at a dataset,
 * say) and coming back finds the form as it was, not reset to the defaults.
 */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { PresetId } from '../../../shared/plan'
import type { VariantId } from '../../../shared/types'

export const useNewExperimentDraft = defineStore('new-experiment-draft', () => {
  const form = reactive({
    name: '',
    preset: '' as PresetId | '',
    dataset: 'mnist-10k',
    student: 'cnn-small',
    strongerTeacher: 'resnet8',
    weakerTeacher: 'mlp',
    seeds: '1, 2, 3',
    epochs: 3,
    // Teachers train longer than students by default, so that the KD teacher is really stronger than
    // the baseline it is compared with (its measured accuracy is checked after training).
    teacherEpochs: 6,
    batchSize: 64,
    learningRate: 0.1,
    maxTrainSamples: 0,
    deKdEpochs: '1',
    /** tfkd-self's teacher: the student's architecture trained here, or an imported `onnx:ID`. */
    selfTeacher: '',
  })
  const selected = ref<Set<VariantId>>(new Set(['baseline', 'lsr', 'tfkd-reg']))
  /** Hyperparameters as typed, per variant (strings from the inputs are coerced on validation). */
  const params = ref<Record<string, Record<string, string>>>({})
  /** Where the plan runs; Slurm is offered only when the host has sbatch on its PATH. */
  const runOn = ref<'local' | 'slurm'>('local')
  return { form, selected, params, runOn }
})
