// The playground page: three panels behind tabs. The backend is chosen once at start (WebGPU when
// navigator.gpu gives an adapter, else the CPU, with a visible note) and shown in the header.
import { autogradPanel } from './autograd/panel.js';
import { labPanel } from './lab/panel.js';
import { trainPanel } from './train/panel.js';

async function hasGpu(): Promise<boolean> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

function tabs(): void {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('.tabs [role=tab]')];
  const show = (b: HTMLButtonElement) => {
    for (const other of buttons) {
      const on = other === b;
      other.setAttribute('aria-selected', String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')!)!.hidden = !on;
    }
  };
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => show(b));
    b.addEventListener('keydown', (e) => {
      const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      const next = buttons[(i + step + buttons.length) % buttons.length];
      next.focus();
      show(next);
    });
  });
  const wanted = buttons.find((b) => `#${b.id.replace('tab-', '')}` === location.hash);
  show(wanted ?? buttons[0]);
}

async function start(): Promise<void> {
  tabs();
  const status = document.getElementById('backend-status')!;
  const gpu = await hasGpu();
  const train = trainPanel(document.getElementById('panel-train')!, gpu);
  labPanel(document.getElementById('panel-lab')!);
  autogradPanel(document.getElementById('panel-autograd')!);
  const ready = await train.ready;
  status.textContent = `Training backend: ${ready.backend === 'webgpu' ? 'WebGPU' : 'CPU'} (${ready.adapter})`;
  if (ready.note || !gpu) {
    status.classList.add('note');
    status.textContent += ` — ${ready.note ?? 'no WebGPU adapter in this browser: training runs on the CPU'}`;
  }
  document.body.dataset.backend = ready.backend;
}

void start();
