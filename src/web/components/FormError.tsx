import { WarningIcon } from './Icons';

export function FormError({ message, testId = 'form-error' }: { message: string | null; testId?: string }) {
  if (!message) return null;
  return (
    <p className="form-error" role="alert" data-testid={testId}>
      <WarningIcon size={16} />
      <span>{message}</span>
    </p>
  );
}
