import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../../access/access.decorators.js';
import type { Principal } from '../../access/principal.js';
import { RequestAuditContext } from '../../audit/audit-context.decorator.js';
import type { AuditContext } from '../../audit/audit.service.js';
import { ApiErrors } from '../../common/api-docs.js';
import { EraseCustomerDataDto, ErasureResultDto } from './customer-data.dto.js';
import { CustomerDataService } from './customer-data.service.js';

@ApiTags('customer data')
@ApiBearerAuth()
@Controller('api/v1/customer-data')
export class CustomerDataController {
  constructor(private readonly customerData: CustomerDataService) {}

  @Post('erase')
  @HttpCode(200)
  @Roles('admin')
  @ApiOperation({
    summary:
      'Erase one customer’s data (by email, phone or session_id) from every handoff of the org at once; lists what stays in Dynamics',
  })
  @ApiBody({ type: EraseCustomerDataDto })
  @ApiOkResponse({ type: ErasureResultDto })
  @ApiErrors(400, 403, 413, 415)
  erase(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: EraseCustomerDataDto,
    @RequestAuditContext() context: AuditContext,
  ): Promise<ErasureResultDto> {
    return this.customerData.erase(principal, dto, context);
  }
}
