/** Arguments a shell would act on if quoting were wrong: the quoting tests (unit and over SSH) use them all. */
export const HOSTILE = [
  '$(touch /tmp/pwned)',
  '`touch /tmp/pwned`',
  "it's; rm -rf /",
  '"double" $HOME ${PATH}',
  'a\nb; touch /tmp/pwned',
  'semi;colon && echo or || echo',
  "'",
  '',
  ' leading and trailing ',
  '*',
  '\\backslash\\',
  'tab\there',
  '-n',
];
