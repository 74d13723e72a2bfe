import { ensureLocalRegistry, LOCAL_REGISTRY, removeLocalRegistryArgv } from '../../../src/registry/local';
import { sh } from '../exec';
import { LabPart } from '../lab';
import { ensureRegistryImage } from './registry';

let startedHere = false;

/** kamal-dev's own local registry on 127.0.0.1:5555, as the product starts it, from the lab's registry image. */
export const localRegistryPart: LabPart = {
  name: 'localRegistry',
  needs: ['baseImage'],
  async up() {
    const image = await ensureRegistryImage();
    const { address, started } = await ensureLocalRegistry({ image });
    startedHere = started;
    return { address, port: LOCAL_REGISTRY.port, image };
  },
  async down() {
    if (startedHere) await sh(removeLocalRegistryArgv());
  },
};
