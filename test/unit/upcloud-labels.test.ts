import { LABELS } from '../../src/providers/types';
import { fromUpcloudLabels, labelQuery, toUpcloudKey, toUpcloudLabels } from '../../src/providers/upcloud-labels';
import { chooseTemplate } from '../../src/providers/upcloud-shapes';

describe('UpCloud label mapping', () => {
  it('maps kamal-dev keys to UpCloud keys and back', () => {
    expect(Object.values(LABELS).map(toUpcloudKey)).toEqual(['kamal-dev_managed', 'kamal-dev_project', 'kamal-dev_service', 'kamal-dev_deployment', 'kamal-dev_index', 'kamal-dev_created-by']);
    const labels = { [LABELS.service]: 'shop', [LABELS.index]: '2', team: 'web' };
    expect(fromUpcloudLabels(toUpcloudLabels(labels))).toEqual(labels);
  });

  it('replaces characters UpCloud does not allow and refuses what cannot be a key', () => {
    expect(toUpcloudKey('app/owner:name')).toBe('app_owner_name');
    expect(() => toUpcloudKey('x')).toThrow('label key "x" cannot be stored on an UpCloud server');
    expect(() => toUpcloudKey('.hidden')).toThrow(/cannot be stored/);
    expect(() => toUpcloudKey('k'.repeat(33))).toThrow(/cannot be stored/);
    expect(() => toUpcloudLabels({ note: 'v'.repeat(256) })).toThrow(/longer than UpCloud's 255 characters/);
  });

  it('builds the label filter of GET /server', () => {
    expect(labelQuery({ [LABELS.managed]: undefined, [LABELS.deployment]: 'a=b&c' })).toBe(
      '?label=kamal-dev_managed&label=kamal-dev_deployment%3Da%3Db%26c',
    );
    expect(labelQuery({})).toBe('');
  });
});

describe('UpCloud template choice', () => {
  const templates = [
    { uuid: 'u20', title: 'Ubuntu Server 20.04 LTS (Focal Fossa)', type: 'template' },
    { uuid: 'u24', title: 'Ubuntu Server 24.04 LTS (Noble Numbat)', type: 'template' },
    { uuid: 'd12', title: 'Debian GNU/Linux 12 (Bookworm)', type: 'template' },
  ];

  it('takes the newest Ubuntu LTS, or the one config names by uuid or title', () => {
    expect(chooseTemplate(templates).uuid).toBe('u24');
    expect(chooseTemplate(templates, 'd12').uuid).toBe('d12');
    expect(chooseTemplate(templates, 'Ubuntu Server 20.04 LTS (Focal Fossa)').uuid).toBe('u20');
  });

  it('says which key is wrong when the named template does not exist', () => {
    expect(() => chooseTemplate(templates, 'Windows')).toThrow(expect.objectContaining({ kind: 'config', key: 'provider.template' }));
    expect(() => chooseTemplate([templates[2]])).toThrow('UpCloud lists no Ubuntu Server LTS template');
  });
});
