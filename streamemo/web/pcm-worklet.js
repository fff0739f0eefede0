// streamemo's microphone worklet: captured audio -> 16 kHz mono 16-bit PCM in 100 ms chunks,
// the format `streamemo serve` takes on /audio. The browser captures at its own rate (often
// 48 kHz); this low-passes below 8 kHz (windowed sinc) and samples at 16 kHz.
const OUT_RATE = 16000;
const CHUNK = 1600; // samples per message: 100 ms
const HALF = 32; // half the filter length, in input samples
const STEPS = 64; // filter table entries per input sample

class Pcm16k extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample
    const cutoff = (0.45 * Math.min(sampleRate, OUT_RATE)) / sampleRate; // cycles per input sample
    this.table = new Float32Array(2 * HALF * STEPS + 1);
    for (let i = 0; i < this.table.length; i++) {
      const d = i / STEPS - HALF;
      const x = Math.PI * 2 * cutoff * d;
      const sinc = d === 0 ? 1 : Math.sin(x) / x;
      const hann = 0.5 + 0.5 * Math.cos((Math.PI * d) / HALF);
      this.table[i] = 2 * cutoff * sinc * hann;
    }
    this.buf = new Float32Array(8192);
    this.len = HALF; // starts with HALF samples of silence as the filter's history
    this.pos = HALF; // where the next output sample sits, in buf
    this.out = new Int16Array(CHUNK);
    this.n = 0;
  }

  push(value) {
    const v = Math.max(-1, Math.min(1, value));
    this.out[this.n++] = Math.round(v < 0 ? v * 32768 : v * 32767);
    if (this.n === CHUNK) {
      this.port.postMessage(this.out.buffer, [this.out.buffer]);
      this.out = new Int16Array(CHUNK);
      this.n = 0;
    }
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    if (this.step === 1) {
      for (let i = 0; i < input.length; i++) this.push(input[i]);
      return true;
    }
    if (this.len + input.length > this.buf.length) {
      const bigger = new Float32Array(2 * (this.len + input.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(input, this.len);
    this.len += input.length;
    while (this.pos + HALF < this.len) {
      const first = Math.ceil(this.pos - HALF);
      const last = Math.floor(this.pos + HALF);
      let sum = 0;
      for (let k = first; k <= last; k++) {
        sum += this.buf[k] * this.table[Math.round((this.pos - k + HALF) * STEPS)];
      }
      this.push(sum);
      this.pos += this.step;
    }
    const drop = Math.floor(this.pos) - HALF; // samples no later output needs
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.pos -= drop;
    }
    return true;
  }
}

registerProcessor("pcm16k", Pcm16k);
