import { LabPart } from '../lab';
import { sh } from '../exec';
import { DEFAULT_BASE_IMAGE, vmImageBuildArgv, vmImageTag } from '../../../src/providers/vmImage';

/** The local VM image (sshd, no Docker), built once from vm/Dockerfile; its tag names its content. */
export const vmImagePart: LabPart = {
  name: 'vmImage',
  needs: ['baseImage'],
  async up() {
    const image = vmImageTag(DEFAULT_BASE_IMAGE);
    const present = await sh(['docker', 'image', 'inspect', image]).then(
      () => true,
      () => false,
    );
    if (!present) await sh([...vmImageBuildArgv(image, DEFAULT_BASE_IMAGE), '--label', 'kamal-dev.lab=vm-image'], { timeoutMs: 900_000 });
    return { image };
  },
};
