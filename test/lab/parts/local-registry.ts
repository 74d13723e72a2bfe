import { ensureLocalRegistry, LOCAL_REGISTRY, removeLocalRegistryArgv } from '../../../src/registry/local';
import { sh } from '../exec';
import { LabPart, markCreated } from '../lab';
import { ensureRegistryImage } from './registry';


/** kamal-dev's own local registry on 127.0.0.1:5555, as the product starts it, from the lab's registry image. */
export const localRegistryPart: LabPart = {
  name: 'localRegistry',
  needs: ['baseImage'],
  async up() {
    const image = await ensureRegistryImage();
    const { address, started } = await ensureLocalRegistry({ image });
    if (started) markCreated('localRegistry');
    return { address, port: LOCAL_REGISTRY.port, image };
  },
  async down() {
    await sh(removeLocalRegistryArgv());
  },
};
