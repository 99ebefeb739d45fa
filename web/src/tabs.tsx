/** A row of tab buttons, one selected. */
import { useI18n, type StringKey } from './i18n';

interface Props<T extends string> {
  options: [T, StringKey][];
  value: T;
  onChange(value: T): void;
}

/** The tabs of `options` (value and label), `value` selected. */
export function Tabs<T extends string>({ options, value, onChange }: Props<T>) {
  const { t } = useI18n();
  return (
    <div class="tabs" role="tablist">
      {options.map(([v, label]) => (
        <button key={v} type="button" role="tab" aria-selected={value === v} onClick={() => onChange(v)}>
          {t(label)}
        </button>
      ))}
    </div>
  );
}
